"""Mixed precision: the one policy, `config.train.compute_dtype`.

`"float32"` (default) or `"bfloat16"`. With bfloat16:

- the convolutions and dense layers of the model compute in bfloat16 (`model.dtype`, set by
  `gcnet.models.build` from the policy); their **parameters stay float32** (`param_dtype`), and so
  do the gradients and the optimizer state (Optax sees only float32 leaves);
- the GC layer's compression and gate, the DSL's switch, the codec's residual vector quantizer,
  normalisation statistics and the log-mel frontend compute in float32 (their ops cast their
  inputs: `gcnet.ops.soft_threshold`, `ops.gate`, `ops.switch`, `rvq`), as routers are kept in
  float32 in mixture-of-experts models: a gate decision near theta must not flip with rounding;
- the logits and everything after them (losses, metrics, calibration, reports) are float32.

On accelerators with bfloat16 matrix units (TPU, recent GPUs) this halves activation memory and
speeds up the matmuls; XLA's CPU backend may be slower in bfloat16 (benchmarks/mixed_precision.py
measures it).
"""

import jax.numpy as jnp

COMPUTE_DTYPES = ("float32", "bfloat16")


def compute_dtype(train_config) -> jnp.dtype:
  """The compute dtype of `config.train` (float32 when the key is absent: runs made before it)."""
  name = str(train_config.get("compute_dtype", "float32"))
  if name not in COMPUTE_DTYPES:
    raise ValueError(f"config.train.compute_dtype={name!r}; use one of {COMPUTE_DTYPES}.")
  return jnp.dtype(name)
