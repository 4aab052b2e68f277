"""Loss terms of `DynamicSwitch` layers: pure, unweighted functions of their sown `ops.SwitchStats`.

Each takes the statistics of every switch of a model (`find_stats(collections["gate"],
ops.SwitchStats)`, fields `[B, S]` or `[U]`) and returns a float32 scalar summed over the switches.
The weights live in the experiment config.
"""

from typing import Sequence

import jax
import jax.numpy as jnp

from gcnet import ops

BUDGET_ON = ("prob", "decision")
BUDGET_KINDS = ("l2", "kl")


def check_budget(budget: float, kind: str = "l2", on: str = "prob") -> None:
  """Raises ValueError unless `budget` is in [0, 1], `kind` in BUDGET_KINDS and `on` in BUDGET_ON."""
  if not 0.0 <= float(budget) <= 1.0:
    raise ValueError(f"heavy budget {budget} must be in [0, 1].")
  if kind not in BUDGET_KINDS:
    raise ValueError(f"budget_kind={kind!r} is not one of {BUDGET_KINDS}.")
  if on not in BUDGET_ON:
    raise ValueError(f"budget_on={on!r} is not one of {BUDGET_ON}.")


def routing_entropy(stats: Sequence[ops.SwitchStats]) -> jax.Array:
  """Sum over switches of the mean binary entropy H(p) (nats): small when routing is decisive."""
  return sum(ops.routing_entropy_loss(s.prob) for s in stats)


def routing_budget(stats: Sequence[ops.SwitchStats], budget: float, kind: str = "l2",
                   on: str = "prob") -> jax.Array:
  """Sum over switches of `ops.budget_loss` of the heavy fraction against `budget` (rho).

  `on="prob"` penalises the mean heavy probability p; `on="decision"` the mean hard decision with
  p's gradient (straight-through), which constrains the routing that actually runs (with many p just
  below 0.5, the mean p can meet the budget while no segment goes heavy). `kind`: "l2" or "kl".
  """
  check_budget(budget, kind, on)
  heavy = (lambda s: s.prob) if on == "prob" else (lambda s: ops.straight_through(s.heavy, s.prob))
  return sum(ops.budget_loss(heavy(s), budget, kind) for s in stats)


def route_targets(light_error: jax.Array, heavy_error: jax.Array, budget: float) -> jax.Array:
  """Which segments most need the heavy pathway: float32 `[B, S]`, 1 on the `budget` fraction
  (rho) of segments of the batch where the light pathway's error exceeds the heavy one's the most,
  0 elsewhere. No gradient flows through the targets."""
  gap = jax.lax.stop_gradient(jnp.asarray(light_error, jnp.float32)
                              - jnp.asarray(heavy_error, jnp.float32))
  ranks = jnp.argsort(jnp.argsort(-gap.reshape(-1))).reshape(gap.shape)
  return (ranks < jnp.round(budget * gap.size)).astype(jnp.float32)


def routing_prediction(stats: Sequence[ops.SwitchStats], light_error: jax.Array,
                       heavy_error: jax.Array, budget: float) -> jax.Array:
  """The error-predicting switch's loss: sum over switches of the mean binary cross-entropy between
  the heavy probability and `route_targets(light_error, heavy_error, budget)` (`[B, S]` errors of
  each pathway per segment). The switch learns to send heavy the segments where the light pathway
  falls furthest behind, a `budget` fraction of them."""
  check_budget(budget)
  targets = route_targets(light_error, heavy_error, budget)
  return sum(ops.gate_bce(s.logit.reshape(-1), targets.reshape(-1) > 0.5) for s in stats)
