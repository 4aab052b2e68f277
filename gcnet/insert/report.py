"""Calibrate an inserted gate on validation data and report it on test data.

    report = gate_report(staged, (val_x, val_positive), (test_x, test_positive), 0.99)
    print(format_gate_report(report))

`theta` is chosen on validation only (`gcnet.eval.calibrate_thetas`, the largest threshold that
passes at least `target_recall` of the validation positives); the test numbers are measured at it
with `StagedRunner` (the back really runs only on the passed samples).
"""

import numpy as np

from gcnet.eval import compute
from gcnet.eval.calibration import calibrate_thetas
from gcnet.runtime.staged_runner import StagedRunner


def _front_outputs(staged, inputs, batch_size: int):
  probs, zeros = [], []
  for start in range(0, len(inputs), batch_size):
    z, prob = staged.stage(0)(inputs[start:start + batch_size])
    probs.append(np.asarray(prob))
    zeros.append(np.asarray((z == 0).reshape(z.shape[0], -1).mean(axis=1)))
  return np.concatenate(probs), np.concatenate(zeros)


def gate_report(staged, validation, test, target_recall: float = 0.99,
                batch_size: int = 500) -> dict:
  """Theta calibrated on `validation`, and the test metrics and compute at it.

  Args:
    staged: a `StagedModel` with one gate (`NNXInsertion.staged()`, or `StagedModel(GatedAt...)`).
    validation, test: `(inputs [N, ...], is_positive bool [N])`.
    target_recall: the positive recall theta is chosen for, on validation.
  Returns:
    dict: "theta"; on test: "stop_rate" (negatives stopped), "recall" (positives passed),
    "pass_rate" (all samples passed), "zero_fraction" (exact zeros of `z`, mean over the samples
    that pass and so send `z` to the back); "flops" per sample {"front", "gate", "back",
    "expected", "ungated"} (XLA counts) and "saving" (ungated / expected); "z_elements".
  """
  val_x, val_pos = validation
  val_probs, _ = _front_outputs(staged, np.asarray(val_x), batch_size)
  theta = float(calibrate_thetas(val_probs, np.asarray(val_pos, bool), target_recall)[0])
  test_x, test_pos = np.asarray(test[0]), np.asarray(test[1], bool)
  out = StagedRunner(staged, [theta], max_batch=batch_size)(test_x)
  passed = out.stopped_at == 1
  _, zero_fraction = _front_outputs(staged, test_x[passed], batch_size) if passed.any() else (
      None, np.zeros(0))
  costs = compute.stage_costs(staged.model, staged.params, test_x[:1])
  parts = {name: part["flops_xla"] for name, part in costs["parts"].items()}
  expected = compute.expected_flops(costs, [1.0, float(passed.mean())])
  return {
      "theta": theta, "target_recall": target_recall,
      "stop_rate": float(np.mean(~passed[~test_pos])), "recall": float(np.mean(passed[test_pos])),
      "pass_rate": float(passed.mean()),
      "zero_fraction": float(zero_fraction.mean()) if zero_fraction.size else float("nan"),
      "flops": {**parts, "expected": expected, "ungated": costs["total"]["flops_xla"]},
      "saving": costs["total"]["flops_xla"] / expected, "z_elements": costs["z_elements"][0],
      "back_samples": int(passed.sum()), "test_samples": int(len(test_x)),
  }


def format_gate_report(report: dict) -> str:
  """The report as a few readable lines."""
  flops = report["flops"]
  return "\n".join([
      f"theta {report['theta']:.4f} (calibrated on validation for recall "
      f">= {report['target_recall']})",
      f"test: {report['stop_rate']:.2%} of negatives stopped, {report['recall']:.2%} of positives "
      f"passed, back ran on {report['back_samples']}/{report['test_samples']} samples",
      f"z: {report['zero_fraction']:.2%} exact zeros of {report['z_elements']} values",
      f"FLOPs/sample: front {flops['front']:,.0f} + gate {flops['gate']:,.0f} + back "
      f"{flops['back']:,.0f}; expected {flops['expected']:,.0f} vs ungated "
      f"{flops['ungated']:,.0f} ({report['saving']:.2f}x fewer)"])
