"""Threshold sweep of a trained GC run: tables and plots of stop rate, recall, accuracy and FLOPs.

  python -m gcnet.sweep_theta --workdir=runs/fmnist_gc [--output=DIR] [--target_recall=0.99]

Writes threshold_sweep.{csv,md,json}, threshold_sweep_recall.png and threshold_sweep_compute.png
into --output (default: the run directory). Theta is chosen on validation; numbers are on test.
"""

import os

from absl import app
from absl import flags
from absl import logging

flags.DEFINE_string("workdir", None, "A trained run (config.json, checkpoints/).")
flags.DEFINE_string("output", "", "Where to write the tables and plots ('': the run directory).")
flags.DEFINE_float("target_recall", None, "Validation positive recall of the chosen theta "
                   "(default: config.eval.target_recall).")
flags.DEFINE_list("thetas", [], "Explicit theta grid (default: gcnet.deploy.default_thetas()).")
flags.DEFINE_integer("batch_size", 0, "Evaluation batch size (0: config.eval.batch_size).")
flags.DEFINE_float("table_step", 0.05, "Markdown table: thetas that are multiples of this, and "
                   "all within it of 0 or 1 (0: every row; the CSV and JSON have every row).")
flags.mark_flags_as_required(["workdir"])

FILES = ("threshold_sweep.csv", "threshold_sweep.md", "threshold_sweep.json")


def sweep_run(workdir: str, output: str = "", target_recall: float | None = None, thetas=None,
              batch_size: int = 0, table_step: float = 0.05) -> dict:
  """Runs the sweep of `workdir` and writes the files; returns the sweep result."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from gcnet import deploy  # pylint: disable=g-import-not-at-top
  from gcnet.deploy import plots  # pylint: disable=g-import-not-at-top
  from gcnet.eval import compute  # pylint: disable=g-import-not-at-top
  run = deploy.load_run(workdir)
  if not hasattr(run.model, "num_stages") or run.model.num_stages < 2:
    raise ValueError(f"{workdir} is not a gated run: a threshold sweep needs a GC model.")
  val = deploy.split_predictions(run, "validation", batch_size or None)
  test = deploy.split_predictions(run, "test", batch_size or None)
  example = deploy.split_inputs(run, "test", 1)["inputs"]
  costs = compute.stage_costs(run.model, run.params, example)
  ungated = deploy.ungated_costs(run.config, run.model.num_classes, example)
  target = float(run.config.eval.target_recall if target_recall is None else target_recall)
  result = deploy.threshold_sweep(
      val, test, np.asarray(thetas, np.float64) if thetas else None, target_recall=target,
      costs=costs, ungated_flops=ungated["total"]["flops_xla"] if ungated else None)
  result.update(workdir=str(workdir), step=run.step, experiment=run.config.experiment,
                num_samples={"validation": len(val["label"]), "test": len(test["label"])})
  output = output or str(workdir)
  os.makedirs(output, exist_ok=True)
  texts = (deploy.to_csv(result), deploy.to_markdown(result, table_step), deploy.to_json(result))
  for name, text in zip(FILES, texts):
    with open(os.path.join(output, name), "w") as f:
      f.write(text)
  title = f"{run.config.experiment} @ step {run.step}"
  result["files"] = [os.path.join(output, n) for n in FILES] + plots.plot_sweep(result, output,
                                                                                 title)
  return result


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)
  f = flags.FLAGS
  result = sweep_run(f.workdir, f.output, f.target_recall, [float(t) for t in f.thetas],
                     f.batch_size, f.table_step)
  c = result["chosen"]
  print(f"theta chosen on validation for recall >= {result['target_recall']:g}: "
        f"{', '.join(f'{t:.4g}' for t in c['thetas'])}; test: stop rate {c['stop_rate']:.4f}, "
        f"positive recall {c['positive_recall']:.4f}, accuracy {c['accuracy']:.4f}, "
        f"expected FLOPs {c['expected_flops']:.4g} ({c['saving_ratio']:.2f}x less than ungated)")
  print("wrote " + ", ".join(result["files"]))


if __name__ == "__main__":
  app.run(main)
