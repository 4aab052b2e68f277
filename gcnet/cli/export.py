"""Export each stage of a trained run (StableHLO, or ONNX float32 / int8) with a JSON manifest.

  python -m gcnet.cli.export --workdir=runs/fmnist_gc --output=export/fmnist_gc
  python -m gcnet.cli.export --workdir=RUN --output=DIR --format=onnx --quantize=none,int8
  python DIR/run_onnx.py DIR --check --precision=int8   # numpy + onnxruntime only
  python DIR/run_stages.py DIR --check        # in any Python with jax: reload and compare
  python -m gcnet.cli.export --workdir=RUN --output=weights/NAME --format=weights  # params only

Parameters are baked into the programs; the batch axis is symbolic unless --batch_size is given.
Thresholds: --theta, else report.json's thresholds calibrated on validation, else config.eval.theta.
See gcnet/runtime/export.py for the directory layout and docs/deploy.md.
"""

from absl import flags

from gcnet.cli import common


def define_flags():
  flags.DEFINE_string("workdir", None, "A trained run's directory (the --workdir it was trained in).")
  flags.DEFINE_string("output", None, "Directory to write the stages and manifest.json to.")
  flags.DEFINE_list("theta", [], "Per-gate thresholds for the manifest (one value: every gate).")
  flags.DEFINE_integer("batch_size", 0, "0: symbolic batch axis; else export at this fixed size.")
  flags.DEFINE_integer("num_examples", 8, "Test examples stored in example.npz for checks.")
  flags.DEFINE_list("platforms", [], "Target platforms, e.g. cpu,cuda (default: this machine's).")
  flags.DEFINE_list("input_shape", [], "Per-sample input shape when the dataset is not available "
                    "here (example inputs are then zeros), e.g. 28,28,1.")
  flags.DEFINE_string("input_dtype", "uint8", "Input dtype with --input_shape.")
  flags.DEFINE_integer("n_q", 0, "Codec runs: quantizers used (0: all).")
  flags.DEFINE_list("format", ["stablehlo"], "Formats: stablehlo (default), onnx (the 'onnx' "
                    "extra); several: each in OUTPUT/<format>/. weights: the parameters alone as a "
                    "small run directory that every --workdir tool loads.")
  flags.DEFINE_list("quantize", ["none"], "ONNX precisions: none (float32), int8 (post-training "
                    "static quantization calibrated on training examples), or none,int8.")
  flags.DEFINE_integer("num_calibration", 256, "Training examples that calibrate int8 ranges.")
  flags.mark_flags_as_required(["workdir", "output"])


def main(argv):
  del argv
  from gcnet.runtime import export  # pylint: disable=g-import-not-at-top  (JAX late)
  f = flags.FLAGS
  manifest = export.export_run(f.workdir, f.output, theta=[float(t) for t in f.theta],
                               batch_size=f.batch_size, num_examples=f.num_examples,
                               platforms=f.platforms, input_shape=f.input_shape,
                               input_dtype=f.input_dtype, n_q=f.n_q, formats=f.format,
                               quantize=f.quantize, num_calibration=f.num_calibration)
  if manifest["format"] == "weights":
    print(f"wrote {manifest['params']} parameters of step {manifest['step']} "
          f"({manifest['bytes'] / 1e6:.2f} MB) to {f.output}; load it with --workdir={f.output}")
    return 0
  for fmt, m in manifest.get("formats", {f.format[0]: manifest}).items():
    for stage in m["stages"]:
      shapes = lambda specs: ", ".join(f"{s['name']} {s['dtype']}{s['shape']}" for s in specs)
      files = ", ".join(stage["files"].values()) if "files" in stage else stage["file"]
      print(f"{fmt:9s} {stage['name']:16s} {shapes(stage['inputs'])} -> "
            f"{shapes(stage['outputs'])}  [{files}]")
  print(f"thetas {manifest.get('thetas')} ({manifest.get('theta_source')}); wrote {f.output}")
  return 0


if __name__ == "__main__":
  common.run_tool(define_flags, main)
