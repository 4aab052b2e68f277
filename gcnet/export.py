"""Export each stage of a trained run as serialized StableHLO (`jax.export`) with a JSON manifest.

  python -m gcnet.export --workdir=runs/fmnist_gc --output=export/fmnist_gc
  python DIR/run_stages.py DIR --check        # in any Python with jax: reload and compare

Parameters are baked into the programs; the batch axis is symbolic unless --batch_size is given.
Thresholds: --theta, else report.json's thresholds calibrated on validation, else config.eval.theta.
See gcnet/deploy/export_stages.py for the directory layout and docs/deploy.md.
"""

from absl import app
from absl import flags
from absl import logging

flags.DEFINE_string("workdir", None, "A trained run (config.json, checkpoints/).")
flags.DEFINE_string("output", None, "Directory to write the stages and manifest.json to.")
flags.DEFINE_list("theta", [], "Per-gate thresholds for the manifest (one value: every gate).")
flags.DEFINE_integer("batch_size", 0, "0: symbolic batch axis; else export at this fixed size.")
flags.DEFINE_integer("num_examples", 8, "Test examples stored in example.npz for checks.")
flags.DEFINE_list("platforms", [], "Target platforms, e.g. cpu,cuda (default: this machine's).")
flags.DEFINE_list("input_shape", [], "Per-sample input shape when the dataset is not available "
                  "here (example inputs are then zeros), e.g. 28,28,1.")
flags.DEFINE_string("input_dtype", "uint8", "Input dtype with --input_shape.")
flags.DEFINE_integer("n_q", 0, "Codec runs: quantizers used (0: all).")
flags.mark_flags_as_required(["workdir", "output"])


def export_run(workdir: str, output: str, *, theta=(), batch_size: int = 0, num_examples: int = 8,
               platforms=(), input_shape=(), input_dtype: str = "uint8", n_q: int = 0) -> dict:
  """Exports the stages of the run in `workdir` to `output`; returns the manifest."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from gcnet import deploy  # pylint: disable=g-import-not-at-top
  run = deploy.load_run(workdir)
  if run.dataset is not None:
    examples = deploy.split_inputs(run, "test", max(num_examples, 1))["inputs"]
  elif input_shape:
    examples = np.zeros((max(num_examples, 1), *map(int, input_shape)), np.dtype(input_dtype))
  else:
    raise ValueError(f"The dataset of {workdir} is not available here: pass --input_shape.")
  if batch_size:
    reps = -(-batch_size // len(examples))
    examples = np.concatenate([examples] * reps)[:batch_size]
  common = dict(polymorphic=not batch_size, platforms=list(platforms) or None,
                workdir=str(workdir), experiment=run.config.experiment, step=run.step,
                model=run.config.model.to_dict())
  spec = deploy.TensorSpec(examples.shape[1:], examples.dtype)
  if getattr(run.model, "pathway", None) == "dsl":
    stages = deploy.codec_export_stages(run.model, run.variables, examples.shape[1], n_q or None)
    return deploy.export_to_directory(stages, output, examples, kind="dsl_codec", chain=False,
                                      n_q=n_q or None, **common)
  staged = deploy.StagedModel(run.model, run.params)
  if theta:
    thetas = [float(t) for t in theta] * (staged.num_gates if len(theta) == 1 else 1)
    if len(thetas) != staged.num_gates:
      raise ValueError(f"--theta has {len(theta)} values for {staged.num_gates} gates.")
    source = "--theta"
  else:
    thetas, source = deploy.calibrated_thetas(run)
  names = deploy.class_names(run)
  return deploy.export_to_directory(
      deploy.gc_export_stages(staged, spec), output, examples, kind="gc", thetas=thetas,
      theta_source=source, class_names=names, background_class=run.model.num_classes - 1,
      **common)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)
  f = flags.FLAGS
  manifest = export_run(f.workdir, f.output, theta=f.theta, batch_size=f.batch_size,
                        num_examples=f.num_examples, platforms=f.platforms,
                        input_shape=f.input_shape, input_dtype=f.input_dtype, n_q=f.n_q)
  for stage in manifest["stages"]:
    shapes = lambda specs: ", ".join(f"{s['name']} {s['dtype']}{s['shape']}" for s in specs)
    print(f"{stage['name']:16s} {shapes(stage['inputs'])} -> {shapes(stage['outputs'])}")
  print(f"thetas {manifest.get('thetas')} ({manifest.get('theta_source')}); wrote {f.output}")


if __name__ == "__main__":
  app.run(main)
