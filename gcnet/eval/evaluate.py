"""End-of-training evaluation of a run, and light metrics for periodic validation."""

import logging

import jax
import numpy as np

from gcnet.eval import calibration
from gcnet.eval import compute
from gcnet.eval import gate_metrics as gm
from gcnet.eval import predictions as preds_lib
from gcnet.eval import report as report_lib
from gcnet.train import run_dir


def validation_metrics(model, params, batches, theta=0.5) -> dict[str, float]:
  """Cheap metrics for periodic evaluation during training.

  Args:
    model, params: the model and its "params".
    batches: evaluation batches with "inputs", "label" and "mask"; in a multi-process run, this
      process's share (see `predictions.collect_predictions`).
    theta: a scalar or per-gate thresholds.
  Returns:
    floats: "accuracy" (end-to-end), "ungated_accuracy", "stop_rate", "positive_recall",
    "pass_rate" and "zero_fraction" (first GC layer, positives; absent for an ungated model).
  """
  preds = preds_lib.collect_predictions(model, params, batches)
  m = gm.metrics_at(preds, theta)
  out = {k: float(m[k]) for k in ("accuracy", "ungated_accuracy", "stop_rate", "positive_recall",
                                  "pass_rate")}
  if m["zero_fraction"]:
    out["zero_fraction"] = float(m["zero_fraction"][0])
  return out


def _keep_first_inputs(batches, store: dict):
  for batch in batches:
    if "inputs" not in store:
      store["inputs"] = preds_lib.to_numpy(batch["inputs"])[:1]
    yield batch


def _ungated_costs(config, num_classes: int, example):
  """Costs of the ungated model with the same backbone, when the model config has `gated`."""
  if "gated" not in config.model or not config.model.gated:
    return None
  from gcnet import models  # pylint: disable=g-import-not-at-top
  model_config = config.model.copy_and_resolve_references()
  with model_config.unlocked():
    model_config.gated = False
  ungated = models.build(model_config, num_classes)
  params = jax.eval_shape(ungated.init, jax.random.key(0), example)["params"]
  return compute.stage_costs(ungated, params, example)


def load_baseline_report(workdir: str) -> dict | None:
  """The report.json of a baseline run, or None (with a warning) when it cannot be read."""
  try:
    return run_dir.read_report(workdir)
  except (OSError, ValueError) as e:
    logging.warning("No baseline report in %s (%s): reporting without a baseline.", workdir, e)
    return None


def evaluate_run(config, model, params, dataset, *, step: int, baseline_workdir: str = "") -> dict:
  """Evaluates a trained model: calibrates on validation, measures everything on test.

  Args:
    config: the experiment config (uses `experiment`, `eval.batch_size`, `eval.theta`,
      `eval.target_recall`, `eval.baseline_workdir`, `model`).
    model, params: the model and its "params".
    dataset: has `.num_classes`, `.class_names` and the splits "validation" and "test" (read by
      `gcnet.data.eval_batches`).
    step: the training step evaluated.
    baseline_workdir: an ungated run whose report.json to compare against; "" falls back to
      `config.eval.baseline_workdir`.
  Returns:
    the report dict of `gcnet.eval.report.build_report` (JSON-serialisable).

  Each process runs its share of the batches and the predictions are gathered, so every process
  returns the same report; let process 0 write it.
  """
  from gcnet import data  # pylint: disable=g-import-not-at-top  (the data layer is heavier)

  def batches(split):
    return data.eval_batches(dataset, split, batch_size=config.eval.batch_size,
                             process_index=jax.process_index(), process_count=jax.process_count())

  first: dict = {}
  val_preds = preds_lib.collect_predictions(model, params, batches("validation"))
  test_preds = preds_lib.collect_predictions(model, params,
                                             _keep_first_inputs(batches("test"), first))
  num_classes = int(test_preds["logits"].shape[-1])
  target_recall = float(config.eval.target_recall)
  is_positive = val_preds["label"] < num_classes - 1
  thetas = calibration.calibrate_thetas(val_preds["gate_probs"], is_positive, target_recall)

  example = first["inputs"]
  costs = compute.stage_costs(model, params, example)
  ungated_costs = _ungated_costs(config, num_classes, example)

  baseline_workdir = baseline_workdir or config.eval.get("baseline_workdir", "")
  baseline = load_baseline_report(baseline_workdir) if baseline_workdir else None
  class_names = getattr(dataset, "class_names", None)
  if class_names is not None:
    class_names = list(class_names)
    if len(class_names) == num_classes - 1:
      class_names.append("background")
    elif len(class_names) != num_classes:
      class_names = None
  return report_lib.build_report(
      experiment=config.experiment, step=step, val_preds=val_preds, test_preds=test_preds,
      target_recall=target_recall, default_theta=float(config.eval.theta),
      thetas_calibrated=np.asarray(thetas), costs=costs, ungated_costs=ungated_costs,
      baseline_report=baseline, baseline_workdir=baseline_workdir, class_names=class_names)
