"""build_report / format_report on hand-made predictions, and evaluate_run on a fake dataset."""

import json
import sys
import types

import jax
import numpy as np
import pytest

from experiments import fashion_mnist_baseline
from experiments import fashion_mnist_gc
from gcnet import models
from gcnet.eval import evaluate
from gcnet.eval import gate_metrics as gm
from gcnet.eval import report as report_lib


def _preds(seed, n=200, num_classes=4):
  rng = np.random.default_rng(seed)
  label = rng.integers(0, num_classes, n).astype(np.int32)
  positive = label < num_classes - 1
  logits = rng.normal(size=(n, num_classes)).astype(np.float32)
  logits[np.arange(n), label] += 1.5
  probs = 1 / (1 + np.exp(-(np.where(positive, 1.0, -1.0) + rng.normal(size=n))))
  zero_fraction = rng.uniform(0.8, 1.0, n)
  return {"logits": logits, "label": label, "gate_probs": probs[:, None].astype(np.float32),
          "zero_fraction": zero_fraction[:, None].astype(np.float32)}


def _part(flops, params):
  return {"flops_xla": flops, "flops_analytic": flops * 0.95, "analytic_over_xla": 0.95,
          "params": params}


COSTS = {"num_gates": 1, "parts": {"front": _part(100.0, 10), "gate": _part(2.0, 1),
                                   "back": _part(1000.0, 100)},
         "z_shapes": [[4, 4, 5]], "z_elements": [80],
         "total": {"flops_xla": 1102.0, "flops_analytic": 1046.9, "params": 111},
         "unassigned_params": 0}
UNGATED = {"num_gates": 0, "parts": {"network": _part(1090.0, 108)}, "z_shapes": [],
           "z_elements": [],
           "total": {"flops_xla": 1090.0, "flops_analytic": 1035.5, "params": 108},
           "unassigned_params": 0}


def test_build_report_values_and_json():
  val, test = _preds(0), _preds(1)
  baseline = {"experiment": "base", "ungated_accuracy": 0.5,
              "compute": {"total": {"flops_xla": 9.0}}}
  report = report_lib.build_report(
      experiment="exp", step=7, val_preds=val, test_preds=test, target_recall=0.95,
      costs=COSTS, ungated_costs=UNGATED, baseline_report=baseline, baseline_workdir="/b")
  assert json.loads(json.dumps(report, allow_nan=False)) == report
  cal, default = report["gating"]["calibrated"], report["gating"]["default"]
  assert default["theta"] == [0.5]
  assert cal["validation_recall"] >= 0.95
  m = gm.metrics_at(test, cal["theta"])
  assert report["accuracy"] == {"default": gm.metrics_at(test, 0.5)["accuracy"],
                                "calibrated": m["accuracy"]}
  assert cal["stop_rate"] == m["stop_rate"] and cal["pass_rate"] == m["pass_rate"]
  assert report["ungated_accuracy"] == m["ungated_accuracy"]
  assert cal["expected_flops_xla"] == pytest.approx(102.0 + m["pass_rate"] * 1000.0)
  assert report["compute"]["saving_ratio"]["calibrated"] == pytest.approx(
      1090.0 / cal["expected_flops_xla"])
  assert report["baseline"]["accuracy"] == 0.5
  assert report["baseline"]["delta"]["default"] == pytest.approx(
      report["accuracy"]["default"] - 0.5)
  positive = test["label"] < 3
  assert report["compression"]["zero_fraction"] == pytest.approx(
      test["zero_fraction"][positive, 0].mean(), rel=1e-6)
  assert report["compression"]["dense_bytes"] == 320.0
  # Validation numbers for model selection: accuracy at each operating point, zeros on positives.
  assert cal["validation_accuracy"] == gm.metrics_at(val, cal["theta"])["accuracy"]
  val_positive = val["label"] < 3
  assert report["compression"]["validation_zero_fraction"] == pytest.approx(
      [val["zero_fraction"][val_positive, 0].mean()], rel=1e-6)
  assert (report["compression"]["validation_zero_fraction"][0]
          != report["compression"]["zero_fraction"])
  assert report["compression"]["per_gate"][0]["z_shape"] == [4, 4, 5]
  text = report_lib.format_report(report)
  for needle in ("stop rate", "positive recall", "front", "gate", "back", "ungated", "baseline"):
    assert needle in text


def test_report_without_negatives_turns_nan_into_none():
  test = _preds(2)
  keep = test["label"] < 3
  test = {k: v[keep] for k, v in test.items()}
  report = report_lib.build_report(experiment="e", step=0, val_preds=_preds(3), test_preds=test,
                                   target_recall=0.9)
  assert report["gating"]["default"]["stop_rate"] is None      # no negatives: NaN -> None
  assert report["gating"]["default"]["positive_recall"] is not None
  json.dumps(report, allow_nan=False)
  report_lib.format_report(report)


# --- evaluate_run end to end on a tiny model and a fake dataset -------------------------------


class _FakeDataset:
  num_classes = 4
  class_names = ("sandal", "sneaker", "ankle_boot")   # K names: background is appended

  def __init__(self):
    rng = np.random.default_rng(0)
    self.splits = {split: (rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8),
                           rng.integers(0, 4, n).astype(np.int32))
                   for split, n in (("validation", 150), ("test", 130))}


def _fake_eval_batches(ds, split, *, batch_size, process_index=0, process_count=1):
  assert (process_index, process_count) == (0, 1)
  images, labels = ds.splits[split]
  for start in range(0, len(labels), batch_size):
    real = min(batch_size, len(labels) - start)
    pad = batch_size - real
    yield {"inputs": np.concatenate([images[start:start + real],
                                     np.zeros((pad,) + images.shape[1:], np.uint8)]),
           "label": np.concatenate([labels[start:start + real], np.zeros(pad, np.int32)]),
           "mask": np.arange(batch_size) < real}


def _numpy_params(model, seed=0):
  shapes = jax.eval_shape(model.init, jax.random.key(0), np.zeros((1, 28, 28, 1), np.uint8))
  rng = np.random.default_rng(seed)

  def draw(path, s):
    name = path[-1].key
    if name in ("scale", "bias", "raw_threshold"):
      return np.full(s.shape, {"scale": 1.0, "bias": 0.0, "raw_threshold": -1.0}[name], np.float32)
    return (rng.normal(size=s.shape) / np.sqrt(np.prod(s.shape[:-1]))).astype(np.float32)

  return jax.tree_util.tree_map_with_path(draw, shapes["params"])


@pytest.fixture
def fake_data(monkeypatch):
  """Replaces `gcnet.data` (written separately) with a module holding only `eval_batches`."""
  fake = types.ModuleType("gcnet.data")
  fake.eval_batches = _fake_eval_batches
  monkeypatch.setitem(sys.modules, "gcnet.data", fake)
  monkeypatch.setattr("gcnet.data", fake, raising=False)


def test_evaluate_run_on_a_fake_dataset(fake_data, tmp_path):
  (tmp_path / "report.json").write_text(
      json.dumps({"experiment": "base", "ungated_accuracy": 0.25}))
  config = fashion_mnist_gc.get_config("runlocal")
  model = models.build(config.model, 4)
  params = _numpy_params(model)
  ds = _FakeDataset()

  report = evaluate.evaluate_run(config, model, params, ds, step=20,
                                 baseline_workdir=str(tmp_path))
  json.dumps(report, allow_nan=False)
  assert report["experiment"] == "fashion_mnist_gc" and report["step"] == 20
  assert report["num_samples"] == {"validation": 150, "test": 130}
  assert report["class_names"] == ["sandal", "sneaker", "ankle_boot", "background"]
  cal = report["gating"]["calibrated"]
  assert cal["validation_recall"] >= config.eval.target_recall
  assert report["baseline"]["delta"]["calibrated"] == pytest.approx(
      report["accuracy"]["calibrated"] - 0.25)
  c = report["compute"]
  assert list(c["parts"]) == ["front", "gate", "back"]
  assert c["ungated"]["params"] < c["total"]["params"]
  front_gate = c["parts"]["front"]["flops_xla"] + c["parts"]["gate"]["flops_xla"]
  assert front_gate <= c["expected_flops"]["calibrated"] <= c["total"]["flops_xla"]
  assert report["compression"]["dense_bytes"] == 14 * 14 * 8 * 4
  print(report_lib.format_report(report))

  # Periodic validation agrees with the report's machinery.
  metrics = evaluate.validation_metrics(model, params,
                                        _fake_eval_batches(ds, "test", batch_size=64), 0.5)
  assert metrics["accuracy"] == pytest.approx(report["accuracy"]["default"])
  assert set(metrics) == {"accuracy", "ungated_accuracy", "stop_rate", "positive_recall",
                          "pass_rate", "zero_fraction"}


def test_missing_baseline_report_is_a_warning(tmp_path):
  assert evaluate.load_baseline_report(str(tmp_path)) is None


def test_evaluate_run_on_the_ungated_baseline(fake_data):
  config = fashion_mnist_baseline.get_config("runlocal")
  model = models.build(config.model, 4)
  report = evaluate.evaluate_run(config, model, _numpy_params(model), _FakeDataset(), step=3)
  json.dumps(report, allow_nan=False)
  assert report["num_gates"] == 0 and report["baseline"] is None
  assert report["gating"]["calibrated"]["theta"] == []
  assert report["accuracy"]["calibrated"] == report["ungated_accuracy"]
  assert list(report["compute"]["parts"]) == ["network"]
  assert report["compute"]["saving_ratio"]["calibrated"] == pytest.approx(1.0)
  assert report["compression"]["zero_fraction"] is None
  report_lib.format_report(report)
