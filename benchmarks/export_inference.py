"""ONNX export of a trained GC run: file sizes, per-stage latency vs JAX, end-to-end quality, and
batch-1 staged vs ungated time with the JAX-free runner (onnxruntime, one intra-op thread).

  python -m gcnet.cli.export --workdir=RUN --output=DIR --format=onnx --quantize=none,int8
  python benchmarks/export_inference.py --workdir=RUN --export_dir=DIR [--rounds=5]

Measured, per precision (float32, int8):

- per stage: file bytes, parameters (float elements of the float32 file's initializers), time
  per sample at batch 1 and 64 of the ONNX stage alone against the JAX stage (jitted, host inputs,
  results waited for);
- quality on the whole test split at the manifest's theta: accuracy (end-to-end), stop rate
  (negatives stopped), recall (positives passed), against the JAX model at the same theta, and the
  fraction of predictions equal to JAX's;
- staged vs ungated: the test stream one sample at a time (`Runner.run_one`) and in batches of 64
  (`Runner.run_gc`), against the ungated export (the whole model as one ONNX graph, the back on
  every sample, written to DIR/ungated/ here), and the **expected** time
  `sum_i reach_i t_i(b) / b` (stages timed alone, reach measured on the same stream).

Rounds are interleaved (every stage and stream of every precision, then again), medians reported.
Writes a markdown table to stdout and JSON to --output (default
benchmarks/results/export_inference_<experiment>.json).
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

flags.DEFINE_string("workdir", None, "The trained GC run.")
flags.DEFINE_string("export_dir", None, "Its ONNX export (python -m gcnet.cli.export --format=onnx).")
flags.DEFINE_integer("rounds", 5, "Interleaved timing rounds.")
flags.DEFINE_integer("stream_samples", 400, "Test samples streamed at batch 1.")
flags.DEFINE_integer("batch", 64, "The larger batch size.")
flags.DEFINE_integer("num_calibration", 256, "Calibration examples of the ungated int8 export.")
flags.DEFINE_string("output", "", "JSON path (default benchmarks/results/export_inference_<exp>.json).")
FLAGS = flags.FLAGS


def _time(fn, min_seconds=0.05):
  """Seconds per call of `fn()` (one loop lasting at least `min_seconds`)."""
  from gcnet.eval import timing  # pylint: disable=g-import-not-at-top  (JAX late)
  return timing.time_call(fn, repeats=1, min_seconds=min_seconds)


def _metrics(pred, stopped, label, background):
  import numpy as np  # pylint: disable=g-import-not-at-top
  neg, pos = label == background, label != background
  return {"accuracy": float(np.mean(pred == label)),
          "stop_rate": float(np.mean(stopped[neg])) if neg.any() else float("nan"),
          "recall": float(np.mean(~stopped[pos])) if pos.any() else float("nan"),
          "pass_rate": float(np.mean(~stopped))}


def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import onnx  # pylint: disable=g-import-not-at-top
  from onnx import numpy_helper  # pylint: disable=g-import-not-at-top

  from gcnet.runtime import onnx_export, onnx_quantize, onnx_runner  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.export import ExportStage  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.load import load_run  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.staged_model import StagedModel, TensorSpec  # pylint: disable=g-import-not-at-top

  run = load_run(FLAGS.workdir, kinds=("classification",), tool="export_inference")
  staged = StagedModel(run.model, run.params)
  test = run.split_inputs("test")
  x_all, label = test["inputs"], test["label"]
  directory = FLAGS.export_dir
  manifest = json.load(open(os.path.join(directory, onnx_runner.MANIFEST)))
  precisions = manifest["precisions"]
  thetas = np.asarray(manifest["thetas"], np.float32)
  background = int(manifest["background_class"])
  names = [s["name"] for s in manifest["stages"]]
  num_gates = len(names) - 1

  # The ungated export: the whole model as one graph.
  ungated_dir = os.path.join(directory, "ungated")
  os.makedirs(ungated_dir, exist_ok=True)
  spec = TensorSpec(x_all.shape[1:], x_all.dtype)
  friendly = onnx_export.onnx_friendly(run.model)   # the ONNX stages' forms (conv_impl="xla")
  full = ExportStage("network", lambda x: friendly.apply({"params": run.params}, x), spec,
                     ("logits",))
  ungated_files = {"float32": os.path.join(ungated_dir, "network.onnx")}
  float_bytes = onnx_export.stage_to_onnx(full)
  open(ungated_files["float32"], "wb").write(float_bytes)
  if "int8" in precisions:
    ungated_files["int8"] = os.path.join(ungated_dir, "network.int8.onnx")
    calib = run.split_inputs("train", FLAGS.num_calibration)["inputs"]
    open(ungated_files["int8"], "wb").write(onnx_quantize.quantize_int8(float_bytes, calib))
  ungated = {p: onnx_runner.session(f) for p, f in ungated_files.items()}

  runners = {p: onnx_runner.Runner(directory, p) for p in precisions}
  result = {"workdir": run.workdir, "export_dir": directory, "experiment": run.config.experiment,
            "step": run.step, "thetas": thetas.tolist(), "batch": FLAGS.batch,
            "onnxruntime_threads": 1, "load_average": os.getloadavg(), "precisions": {}}

  # Quality on the whole test split.
  logits, probs = staged.compose(x_all)
  jax_stop = np.any(np.asarray(probs) < thetas, axis=-1)
  jax_pred = np.where(jax_stop, background, np.argmax(np.asarray(logits), -1))
  result["jax"] = _metrics(jax_pred, jax_stop, label, background)
  for p, r in runners.items():
    out = onnx_runner.call  # noqa: F841
    res = [r.run_gc(x_all[i:i + 500]) for i in range(0, len(x_all), 500)]
    pred = np.concatenate([o["predictions"] for o in res])
    stop = np.concatenate([o["stopped_at"] for o in res]) < num_gates
    q = _metrics(pred, stop, label, background)
    q["agreement_with_jax"] = float(np.mean(pred == jax_pred))
    q["counts"] = {n: int(sum(o["counts"][n] for o in res)) for n in names}
    result["precisions"][p] = {"quality": q}

  # Per-stage inputs at batch 1 and B, as the runner feeds them.
  b = FLAGS.batch
  inputs = {names[0]: x_all[:b]}
  h = x_all[:b]
  for i in range(num_gates):
    h = np.asarray(staged.stage(i)(h)[0])
    inputs[names[i + 1]] = h
  stream = x_all[:FLAGS.stream_samples]
  batches = [x_all[i:i + b] for i in range(0, (len(x_all) // b) * b, b)][:16]

  timings = {}   # key -> list over rounds
  def record(key, seconds):
    timings.setdefault(key, []).append(seconds)

  jax_stages = [staged.stage(i) for i in range(num_gates + 1)]
  for _ in range(FLAGS.rounds):
    for i, name in enumerate(names):
      for bs in (1, b):
        xi = inputs[name][:bs]
        record(f"jax/{name}/{bs}", _time(lambda: jax.block_until_ready(jax_stages[i](xi))) / bs)
        for p, r in runners.items():
          record(f"{p}/{name}/{bs}", _time(lambda: r.stage(name, xi)) / bs)
    for bs in (1, b):
      xi = x_all[:bs]
      record(f"jax/ungated/{bs}", _time(lambda: jax.block_until_ready(staged.full(xi))) / bs)
      for p in precisions:
        record(f"{p}/ungated/{bs}", _time(lambda: onnx_runner.call(ungated[p], xi)) / bs)
    for p, r in runners.items():
      start = time.perf_counter()
      stops = [r.run_one(s)[1] for s in stream]
      record(f"{p}/staged_stream/1", (time.perf_counter() - start) / len(stream))
      start = time.perf_counter()
      for s in stream:
        onnx_runner.call(ungated[p], s[None])
      record(f"{p}/ungated_stream/1", (time.perf_counter() - start) / len(stream))
      start = time.perf_counter()
      outs = [r.run_gc(xb) for xb in batches]
      record(f"{p}/staged_stream/{b}", (time.perf_counter() - start) / (len(batches) * b))
      start = time.perf_counter()
      for xb in batches:
        onnx_runner.call(ungated[p], xb)
      record(f"{p}/ungated_stream/{b}", (time.perf_counter() - start) / (len(batches) * b))
      result["precisions"][p].setdefault("reach", {})
      result["precisions"][p]["reach"]["1"] = [1.0] + [
          float(np.mean(np.asarray(stops) > g)) for g in range(num_gates)]
      result["precisions"][p]["reach"][str(b)] = [1.0] + [
          float(np.mean(np.concatenate([o["stopped_at"] for o in outs]) > g))
          for g in range(num_gates)]
  med = {k: statistics.median(v) for k, v in timings.items()}
  result["median_seconds_per_sample"] = med
  result["load_average_end"] = os.getloadavg()

  # Sizes, parameters, expected time.
  for p, r in runners.items():
    entry = result["precisions"][p]
    stages = {}
    for s in manifest["stages"]:
      path = os.path.join(directory, s["files"][p])
      model = onnx.load(os.path.join(directory, s["files"]["float32"]))
      params = sum(int(np.prod(numpy_helper.to_array(t).shape)) for t in model.graph.initializer
                   if numpy_helper.to_array(t).dtype.kind == "f")
      stages[s["name"]] = {"bytes": os.path.getsize(path), "params": params,
                           **{f"us_{bs}": med[f"{p}/{s['name']}/{bs}"] * 1e6 for bs in (1, b)},
                           **{f"jax_us_{bs}": med[f"jax/{s['name']}/{bs}"] * 1e6 for bs in (1, b)}}
    stages["ungated"] = {"bytes": os.path.getsize(ungated_files[p]),
                         **{f"us_{bs}": med[f"{p}/ungated/{bs}"] * 1e6 for bs in (1, b)},
                         **{f"jax_us_{bs}": med[f"jax/ungated/{bs}"] * 1e6 for bs in (1, b)}}
    entry["stages"] = stages
    entry["stream"] = {}
    for bs in (1, b):
      reach = entry["reach"][str(bs)]
      expected = sum(reach[i] * med[f"{p}/{n}/{bs}"] for i, n in enumerate(names))
      staged_t, ungated_t = med[f"{p}/staged_stream/{bs}"], med[f"{p}/ungated_stream/{bs}"]
      entry["stream"][str(bs)] = {
          "pass_rate": reach[-1], "expected_us": expected * 1e6, "staged_us": staged_t * 1e6,
          "ungated_us": ungated_t * 1e6, "staged_over_expected": staged_t / expected,
          "ungated_over_staged": ungated_t / staged_t,
          "staged_below_ungated": staged_t < ungated_t,
          "within_1_1x_expected": staged_t <= 1.1 * expected}

  # Tables.
  print(f"\n{run.config.experiment} @ {run.step}, theta {thetas.tolist()}, load "
        f"{result['load_average'][0]:.1f} -> {result['load_average_end'][0]:.1f}")
  print("\n| precision | stage | bytes | params | us/sample b=1 (JAX) | us/sample b=%d (JAX) |" % b)
  print("| --- | --- | ---: | ---: | ---: | ---: |")
  for p in precisions:
    for name, s in result["precisions"][p]["stages"].items():
      print(f"| {p} | {name} | {s['bytes']:,} | {s.get('params', '-')} | {s['us_1']:.1f} "
            f"({s['jax_us_1']:.1f}) | {s[f'us_{b}']:.2f} ({s[f'jax_us_{b}']:.2f}) |")
  print("\n| model | accuracy | stop rate | recall | pass rate | same prediction as JAX |")
  print("| --- | ---: | ---: | ---: | ---: | ---: |")
  j = result["jax"]
  print(f"| JAX | {j['accuracy']:.4f} | {j['stop_rate']:.4f} | {j['recall']:.4f} | "
        f"{j['pass_rate']:.4f} | 1 |")
  for p in precisions:
    q = result["precisions"][p]["quality"]
    print(f"| ONNX {p} | {q['accuracy']:.4f} | {q['stop_rate']:.4f} | {q['recall']:.4f} | "
          f"{q['pass_rate']:.4f} | {q['agreement_with_jax']:.4f} |")
  print("\n| precision | batch | pass | expected us | staged us | ungated us | staged/expected |"
        " ungated/staged |")
  print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
  for p in precisions:
    for bs, s in result["precisions"][p]["stream"].items():
      print(f"| {p} | {bs} | {s['pass_rate']:.3f} | {s['expected_us']:.1f} | {s['staged_us']:.1f}"
            f" | {s['ungated_us']:.1f} | {s['staged_over_expected']:.2f} | "
            f"{s['ungated_over_staged']:.2f}x |")
  output = FLAGS.output or os.path.join(
      os.path.dirname(os.path.abspath(__file__)), "results",
      f"export_inference_{run.config.experiment}.json")
  os.makedirs(os.path.dirname(output), exist_ok=True)
  with open(output, "w") as f:
    json.dump(result, f, indent=2)
  print(f"\nwrote {output}")


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir", "export_dir"])
  app.run(main)
