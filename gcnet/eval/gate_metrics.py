"""Gate, accuracy and compression metrics of collected predictions at given thresholds.

Definitions follow docs (FORMULATION "Metrics"): a sample is stopped when some gate has
`prob < theta`; the end-to-end prediction is background (`K`) for a stopped sample, else the argmax
of the logits. Compression is measured on positive samples, from the exact-zero fraction of `z`.
"""

import math

import numpy as np

from gcnet import ops


def _probs(preds) -> np.ndarray:
  return np.asarray(preds["gate_probs"], np.float32).reshape(len(preds["label"]), -1)


def _thetas(thetas, num_gates: int) -> np.ndarray:
  return np.broadcast_to(np.asarray(thetas, np.float32), (num_gates,)).copy()


def reach_fractions(gate_probs, thetas) -> np.ndarray:
  """float `[G+1]`: fraction of all samples that reach stage `i` (pass every gate before it).

  `reach[0] = 1` (the first stage always runs) and `reach[G]` is the pass rate (the back runs).
  """
  probs = np.asarray(gate_probs, np.float32)
  n, num_gates = probs.shape
  thetas = _thetas(thetas, num_gates)
  alive = np.ones(n, bool)
  reach = [1.0]
  for g in range(num_gates):
    alive &= probs[:, g] >= thetas[g]
    reach.append(float(alive.mean()) if n else float("nan"))
  return np.asarray(reach, np.float64)


def end_to_end_predictions(preds, thetas) -> np.ndarray:
  """int32 `[N]`: background `K` where some gate stops the sample, else argmax of the logits."""
  logits = np.asarray(preds["logits"])
  background = logits.shape[-1] - 1
  probs = _probs(preds)
  predicted = np.argmax(logits, axis=-1).astype(np.int32)
  if probs.shape[1] == 0:
    return predicted
  stop = np.asarray(ops.stopped(probs, _thetas(thetas, probs.shape[1])))
  return np.where(stop, background, predicted).astype(np.int32)


def confusion_matrix(labels, predicted, num_classes: int) -> np.ndarray:
  """int64 `[C, C]`: rows are true classes, columns predicted classes."""
  matrix = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(matrix, (np.asarray(labels, np.int64), np.asarray(predicted, np.int64)), 1)
  return matrix


def sparse_bytes(z_elements: int, zero_fraction, bytes_per_value: int = 4) -> np.ndarray:
  """Per-sample bytes of `z` as a bitmap of `ceil(n/8)` bytes plus the non-zero values.

  Args:
    z_elements: `n`, elements of `z` per sample.
    zero_fraction: `[M]` exact-zero fraction of each sample's `z`.
  Returns:
    float64 `[M]`; the number of non-zeros is `round((1 - zero_fraction) * n)`.
  """
  nnz = np.rint((1.0 - np.asarray(zero_fraction, np.float64)) * z_elements)
  return math.ceil(z_elements / 8) + nnz * bytes_per_value


def compression_metrics(preds, z_elements, bytes_per_value: int = 4) -> list[dict]:
  """Per GC layer: zero fraction and dense vs sparse bytes of `z`, averaged over positive samples.

  Args:
    preds: predictions from `collect_predictions`.
    z_elements: `[G]` elements of each GC layer's `z` per sample (from the stage output shapes).
  Returns:
    one dict per gate: "z_elements", "zero_fraction", "dense_bytes", "sparse_bytes", "ratio"
    (dense / sparse; the values are float32, `bytes_per_value` bytes each).
  """
  labels = np.asarray(preds["label"])
  background = np.asarray(preds["logits"]).shape[-1] - 1
  zero_fraction = np.asarray(preds["zero_fraction"], np.float64).reshape(len(labels), -1)
  positive = labels < background
  out = []
  for g, n in enumerate(z_elements):
    zf = zero_fraction[positive, g]
    dense = float(n * bytes_per_value)
    sparse = float(np.mean(sparse_bytes(int(n), zf, bytes_per_value))) if zf.size else float("nan")
    out.append({"z_elements": int(n),
                "zero_fraction": float(np.mean(zf)) if zf.size else float("nan"),
                "dense_bytes": dense, "sparse_bytes": sparse, "ratio": dense / sparse})
  return out


def metrics_at(preds, thetas, z_elements=None, bytes_per_value: int = 4) -> dict:
  """All metrics of predictions at thresholds `thetas`.

  Args:
    preds: dict from `collect_predictions` ("logits" `[N, K+1]`, "label" `[N]`, "gate_probs"
      `[N, G]`, "zero_fraction" `[N, G]`).
    thetas: a scalar or `[G]` thresholds (ignored for an ungated model).
    z_elements: optional `[G]` elements of each `z` per sample, for the byte counts.
  Returns:
    dict: "thetas" `[G]`, "num_samples", "num_positive", "num_negative", "stop_rate" (negatives
    stopped), "positive_recall" (positives not stopped), "pass_rate" (all samples reaching the
    back),
    "reach" `[G+1]` (fraction of all samples running each stage), "accuracy" (end-to-end),
    "ungated_accuracy" (argmax of the logits, back on everything), "per_class_recall" `[K+1]`
    (end-to-end), "confusion" `[K+1, K+1]` (end-to-end), "zero_fraction" `[G]` (mean over
    positives) and, with `z_elements`, "compression" (see `compression_metrics`).
  """
  labels = np.asarray(preds["label"], np.int64)
  logits = np.asarray(preds["logits"])
  num_classes = logits.shape[-1]
  probs = _probs(preds)
  num_gates = probs.shape[1]
  thetas = _thetas(thetas, num_gates)
  positive = labels < num_classes - 1
  predicted = end_to_end_predictions(preds, thetas)
  stop = (np.asarray(ops.stopped(probs, thetas)) if num_gates
          else np.zeros(len(labels), bool))
  confusion = confusion_matrix(labels, predicted, num_classes)
  per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
  zero_fraction = np.asarray(preds["zero_fraction"], np.float64).reshape(len(labels), -1)
  metrics = {
      "thetas": [float(t) for t in thetas],
      "num_samples": int(len(labels)),
      "num_positive": int(positive.sum()),
      "num_negative": int((~positive).sum()),
      "stop_rate": _mean(stop[~positive]),
      "positive_recall": _mean(~stop[positive]),
      "pass_rate": _mean(~stop),
      "reach": [float(r) for r in reach_fractions(probs, thetas)],
      "accuracy": _mean(predicted == labels),
      "ungated_accuracy": _mean(np.argmax(logits, axis=-1) == labels),
      "per_class_recall": [float(r) for r in per_class],
      "confusion": confusion.tolist(),
      "zero_fraction": [_mean(zero_fraction[positive, g]) for g in range(num_gates)],
  }
  if z_elements is not None:
    metrics["compression"] = compression_metrics(preds, z_elements, bytes_per_value)
  return metrics


def _mean(values) -> float:
  values = np.asarray(values, np.float64)
  return float(values.mean()) if values.size else float("nan")
