"""Deployment cost accounting: FLOPs and parameters per stage, bytes crossing each stage boundary,
and expected cost per sample at given thresholds.

FLOPs and parameters come from `gcnet.eval.compute.stage_costs` (XLA and analytic counts); this file
adds what a deployment needs on top:

- **boundary bytes**: what crosses from stage `i` to stage `i+1` (from the small core to the big
  one) for each sample that gate `i` passes: `z_i` dense (`n * 4` bytes, float32) or sparse-encoded
  (a bitmap of `ceil(n / 8)` bytes plus the float32 non-zeros, `gate_metrics.sparse_bytes`),
  averaged over the samples that really cross; and the expected bytes per sample
  (`reach[i+1] * mean bytes`, as stopped samples send nothing);
- **expected FLOPs per sample** at the thresholds (`compute.expected_flops` with the measured reach
  fractions), against the ungated model's FLOPs.
"""

import numpy as np

from gcnet.eval import compute
from gcnet.eval import gate_metrics as gm


def boundary_bytes(preds: dict, thetas, z_elements, bytes_per_value: int = 4) -> list[dict]:
  """Bytes of `z_i` that cross each stage boundary.

  Args:
    preds: predictions (`gcnet.eval.collect_predictions`: "gate_probs", "zero_fraction" `[N, G]`).
    thetas: scalar or `[G]` thresholds.
    z_elements: `[G]` elements of each `z_i` per sample.
  Returns:
    one dict per gate: "z_elements", "crossing_fraction" (`reach[i+1]`), "zero_fraction" (mean
    over crossing samples), "dense_bytes" and "sparse_bytes" per crossing sample,
    "expected_dense_bytes" and "expected_sparse_bytes" per sample (all samples).
  """
  probs = np.asarray(preds["gate_probs"], np.float32).reshape(len(preds["label"]), -1)
  zero_fraction = np.asarray(preds["zero_fraction"], np.float64).reshape(probs.shape)
  thetas = np.broadcast_to(np.asarray(thetas, np.float32), probs.shape[1:])
  alive = np.ones(probs.shape[0], bool)
  out = []
  for g, n in enumerate(z_elements):
    alive &= probs[:, g] >= thetas[g]
    crossing = float(alive.mean()) if alive.size else float("nan")
    dense = float(n * bytes_per_value)
    zf = zero_fraction[alive, g]
    sparse = (float(np.mean(gm.sparse_bytes(int(n), zf, bytes_per_value))) if zf.size
              else float(np.ceil(n / 8)))
    out.append({"z_elements": int(n), "crossing_fraction": crossing,
                "zero_fraction": float(zf.mean()) if zf.size else float("nan"),
                "dense_bytes": dense, "sparse_bytes": sparse,
                "expected_dense_bytes": crossing * dense,
                "expected_sparse_bytes": crossing * sparse})
  return out


def deployment_costs(model, params, example, preds: dict, thetas,
                     ungated_costs: dict | None = None) -> dict:
  """Per-stage compute, boundary bytes and expected cost per sample at `thetas`.

  Args:
    model, params: the GC model (stage contract) and its "params".
    example: one input batch (`[1, ...]` or more; only its first row's shape is used).
    preds: predictions of the samples to measure the stop rate on (e.g. the test split).
    thetas: scalar or `[G]` thresholds.
    ungated_costs: `compute.stage_costs` of the ungated model (same backbone, no GC layer); None:
      the gated model with every stage run (`costs["total"]`).
  Returns:
    dict: "parts" (`stage_costs` parts), "total", "z_shapes", "reach" `[G+1]`, "stop_rate",
    "pass_rate", "expected_flops" {"xla", "analytic"}, "ungated_flops" {"xla", "analytic"},
    "saving_ratio" {"xla", "analytic"} (ungated / expected), "boundary" (`boundary_bytes`).
  """
  example = np.asarray(example)[:1]
  costs = compute.stage_costs(model, params, example)
  metrics = gm.metrics_at(preds, thetas)
  reach = metrics["reach"]
  ungated = (ungated_costs or costs)["total"]
  expected = {k: compute.expected_flops(costs, reach, f"flops_{k}") for k in ("xla", "analytic")}
  ungated_flops = {k: float(ungated[f"flops_{k}"]) for k in ("xla", "analytic")}
  return {
      "parts": costs["parts"], "total": costs["total"], "z_shapes": costs["z_shapes"],
      "thetas": metrics["thetas"], "reach": reach, "stop_rate": metrics["stop_rate"],
      "pass_rate": metrics["pass_rate"], "expected_flops": expected, "ungated_flops": ungated_flops,
      "saving_ratio": {k: ungated_flops[k] / expected[k] for k in expected},
      "boundary": boundary_bytes(preds, metrics["thetas"], costs["z_elements"]),
  }

