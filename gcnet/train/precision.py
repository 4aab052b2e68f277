"""Mixed precision: the one policy, `config.train.compute_dtype`.

`"float32"` (default) or `"bfloat16"`. With bfloat16:

- the model's layers compute in bfloat16 (its `dtype` field, set when the model is built from the
  policy); their **parameters stay float32** (`param_dtype`), and so do the gradients and the
  optimizer state (Optax sees only float32 leaves);
- routing and quantization math, normalisation statistics and feature frontends compute in float32
  (their ops cast their inputs; see `docs/architecture.md`), as routers are kept in float32 in
  mixture-of-experts models: a decision near its threshold must not flip with rounding;
- the model's outputs and everything after them (losses, metrics, calibration, reports) are float32.

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
