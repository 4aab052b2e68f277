"""The training loss: a task's own loss plus its named terms, weighted by `config.loss.terms`.

    loss = task_loss + sum_{name: weight != 0} weight * ramp_name(step) * term[name]

A term of weight 0 is listed so that a flag can turn it on: it is not computed and needs no
statistics. `config.loss.ramp` (`terms`, `start`, `end` as fractions of training) scales the
listed terms from 0 to their full weight (e.g. a regulariser that starts once the task's own loss
has been learnt); the other terms have `ramp = 1`. Metrics hold every computed term unweighted as
`term/<name>`, the ramp factor of each ramped term as `scale/<name>`, and `loss`.
"""

from typing import Mapping, Sequence

import jax
import jax.numpy as jnp

from gcnet.train.task import Task


def active_weights(weights: Mapping[str, float], known: Sequence[str]) -> dict[str, float]:
  """The non-zero `weights` (name -> weight); ValueError for a name not in `known`."""
  unknown = sorted(set(weights) - set(known))
  if unknown:
    raise ValueError(f"Unknown loss terms {unknown} in config.loss.terms; this task's terms: "
                     f"{sorted(known)}.")
  return {name: float(w) for name, w in weights.items() if w != 0}


def ramp(progress, start: float, end: float) -> jax.Array:
  """A weight factor over training: 0 before `start`, linear to 1 at `end`, 1 after.

  `progress`, `start` and `end` are fractions of training (step / num_steps); `end <= start` is a
  step from 0 to 1 at `start`. Float32, the shape of `progress`.
  """
  progress = jnp.asarray(progress, jnp.float32)
  if end <= start:
    return (progress >= start).astype(jnp.float32)
  return jnp.clip((progress - start) / (end - start), 0.0, 1.0)


def weighted_sum(task_loss: jax.Array, terms: Mapping[str, jax.Array],
                 weights: Mapping[str, float],
                 scales: Mapping[str, jax.Array] | None = None
                 ) -> tuple[jax.Array, dict[str, jax.Array]]:
  """`(loss, {"term/<name>": term, ..., "scale/<name>": factor, "loss": loss})` for the active
  `weights`, each term times its `scales` factor (default 1)."""
  missing = sorted(set(weights) - set(terms))
  if missing:
    raise ValueError(f"The task computed no value for the loss terms {missing} it was asked for.")
  scales = scales or {}
  loss = task_loss
  metrics = {}
  for name, weight in weights.items():
    metrics[f"term/{name}"] = terms[name]
    if name in scales:
      metrics[f"scale/{name}"] = scales[name]
      loss = loss + weight * scales[name] * terms[name]
    else:
      loss = loss + weight * terms[name]
  metrics["loss"] = loss
  return loss, metrics


def make_loss_fn(task: Task, weights: Mapping[str, float], ramp_config=None,
                 num_steps: int = 1):
  """`loss_fn(params, model_state, batch, rng) -> (loss, (metrics, new_model_state))` of `task`
  with the term weights `weights` (`config.loss.terms`).

  Args:
    ramp_config: `config.loss.ramp` (`terms`, `start`, `end`) or None; the ramp reads the step
      the train step passes as `batch["step"]` (no step: full weights).
    num_steps: `config.train.num_steps`, the length of training the ramp's fractions refer to.
  Raises:
    ValueError: an unknown term in `weights` or in the ramp (a known term of weight 0 may be
      ramped: it stays off).
  """
  active = active_weights(weights, task.term_names)
  terms_fn = task.terms_fn(tuple(active))
  ramp_names = tuple((ramp_config or {}).get("terms", ()))
  unknown = sorted(set(ramp_names) - set(task.term_names))
  if unknown:
    raise ValueError(f"config.loss.ramp.terms lists unknown loss terms {unknown}; this task's "
                     f"terms: {sorted(task.term_names)}.")
  ramped = tuple(n for n in ramp_names if n in active)

  def loss_fn(params, model_state, batch, rng):
    task_loss, terms, metrics, new_model_state = terms_fn(params, model_state, batch, rng)
    scales = {}
    if ramped and "step" in batch:
      factor = ramp(batch["step"] / max(int(num_steps), 1), float(ramp_config.start),
                    float(ramp_config.end))
      scales = {name: factor for name in ramped}
    loss, term_metrics = weighted_sum(task_loss, terms, active, scales)
    return loss, ({**metrics, **term_metrics}, new_model_state)

  return loss_fn
