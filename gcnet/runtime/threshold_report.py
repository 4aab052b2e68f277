"""The threshold sweep of a trained GC run, written as tables and plots (`gcnet.cli.sweep_theta`).

    result = write_threshold_sweep("runs/fmnist_gc")   # threshold_sweep.{csv,md,json}, two PNGs

Theta is chosen on validation; numbers are on test (`gcnet.eval.threshold_sweep`).
"""

import os

import numpy as np

from gcnet.eval import compute
from gcnet.eval import threshold_sweep as sweep
from gcnet.runtime.load import load_run

FILES = ("threshold_sweep.csv", "threshold_sweep.md", "threshold_sweep.json")


def write_threshold_sweep(workdir: str, output: str = "", target_recall: float | None = None,
                          thetas=None, batch_size: int = 0, table_step: float = 0.05) -> dict:
  """Sweeps the gate threshold of the run in `workdir`, writes the tables and plots to `output`
  (default: the run directory) and returns the sweep result."""
  from gcnet.eval import threshold_plots  # pylint: disable=g-import-not-at-top  (matplotlib)
  run = load_run(workdir, kinds=("classification",), tool="gcnet.cli.sweep_theta")
  if run.num_gates == 0:
    raise ValueError(f"{run.workdir} is not a gated run: a threshold sweep needs a GC model.")
  val = run.split_predictions("validation", batch_size or None)
  test = run.split_predictions("test", batch_size or None)
  example = run.split_inputs("test", 1)["inputs"]
  costs = compute.stage_costs(run.model, run.params, example)
  ungated = compute.ungated_costs(run.config, run.model.num_classes, example)
  target = float(run.config.eval.target_recall if target_recall is None else target_recall)
  result = sweep.threshold_sweep(
      val, test, np.asarray(thetas, np.float64) if thetas else None, target_recall=target,
      costs=costs, ungated_flops=ungated["total"]["flops_xla"] if ungated else None)
  result.update(workdir=run.workdir, step=run.step, experiment=run.config.experiment,
                num_samples={"validation": len(val["label"]), "test": len(test["label"])})
  output = output or run.workdir
  os.makedirs(output, exist_ok=True)
  texts = (sweep.to_csv(result), sweep.to_markdown(result, table_step), sweep.to_json(result))
  for name, text in zip(FILES, texts):
    with open(os.path.join(output, name), "w") as f:
      f.write(text)
  title = f"{run.config.experiment} @ step {run.step}"
  result["files"] = [os.path.join(output, n) for n in FILES] + threshold_plots.plot_sweep(
      result, output, title)
  return result

