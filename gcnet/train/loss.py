"""The training loss: a task's own loss plus its named terms, weighted by `config.loss.terms`.

    loss = task_loss + sum_{name: weight != 0} weight * term[name]

A term of weight 0 is listed so that a flag can turn it on: it is not computed and needs no
statistics. Metrics hold every computed term unweighted as `term/<name>`, and `loss`.
"""

from typing import Mapping, Sequence

import jax

from gcnet.train.task import Task


def active_weights(weights: Mapping[str, float], known: Sequence[str]) -> dict[str, float]:
  """The non-zero `weights` (name -> weight); ValueError for a name not in `known`."""
  unknown = sorted(set(weights) - set(known))
  if unknown:
    raise ValueError(f"Unknown loss terms {unknown} in config.loss.terms; this task's terms: "
                     f"{sorted(known)}.")
  return {name: float(w) for name, w in weights.items() if w != 0}


def weighted_sum(task_loss: jax.Array, terms: Mapping[str, jax.Array],
                 weights: Mapping[str, float]) -> tuple[jax.Array, dict[str, jax.Array]]:
  """`(loss, {"term/<name>": term, ..., "loss": loss})` for the active `weights`."""
  missing = sorted(set(weights) - set(terms))
  if missing:
    raise ValueError(f"The task computed no value for the loss terms {missing} it was asked for.")
  loss = task_loss
  metrics = {}
  for name, weight in weights.items():
    metrics[f"term/{name}"] = terms[name]
    loss = loss + weight * terms[name]
  metrics["loss"] = loss
  return loss, metrics


def make_loss_fn(task: Task, weights: Mapping[str, float]):
  """`loss_fn(params, model_state, batch, rng) -> (loss, (metrics, new_model_state))` of `task`
  with the term weights `weights` (`config.loss.terms`)."""
  active = active_weights(weights, task.term_names)
  terms_fn = task.terms_fn(tuple(active))

  def loss_fn(params, model_state, batch, rng):
    task_loss, terms, metrics, new_model_state = terms_fn(params, model_state, batch, rng)
    loss, term_metrics = weighted_sum(task_loss, terms, active)
    return loss, ({**metrics, **term_metrics}, new_model_state)

  return loss_fn
