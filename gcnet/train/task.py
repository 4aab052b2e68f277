"""What the training loop asks of a task (one kind of training). Implementations: `gcnet.tasks`.

The loop owns the mesh, the train state, the jitted step, checkpoints and metric writers; the task
owns its data, model, loss terms, periodic evaluation and final report. The loop weights the task's
named terms with `config.loss.terms` (`gcnet.train.loss`), so a task returns them unweighted.
"""

from typing import Any, Callable, Mapping, Protocol, Sequence

import jax

# `(params, model_state, batch, rng) -> (task_loss, terms, metrics, new_model_state)`:
#   task_loss: scalar, the task's own loss (weight 1; 0.0 when the named terms are the whole loss);
#   terms: {name: scalar}, exactly the names asked for, unweighted;
#   metrics: {name: scalar}, training metrics to log (e.g. an accuracy);
#   new_model_state: `model_state` updated by the forward pass (same tree structure).
TermsFn = Callable[[Any, Mapping[str, Any], Mapping[str, jax.Array], jax.Array],
                   tuple[jax.Array, Mapping[str, jax.Array], Mapping[str, jax.Array],
                         Mapping[str, Any]]]


class Task(Protocol):
  """A kind of training, built from the experiment config."""

  @property
  def dataset(self) -> Any:
    """A `gcnet.data.Dataset`: `source("train")[i]` is an example `{"inputs": [...], ...}`; the loop
    draws global batches `{"inputs": [B, ...], ...}` from it with `gcnet.data.train_iterator`."""

  @property
  def term_names(self) -> Sequence[str]:
    """The names of the loss terms this task can compute (the keys `config.loss.terms` may use)."""

  def init_variables(self, rng: jax.Array) -> dict:
    """Initial variables `{"params": ..., **model_state}`: the parameters and the collections the
    step carries from one step to the next (e.g. EMA codebooks); no sown statistics."""

  def terms_fn(self, names: Sequence[str]) -> TermsFn:
    """The function computing the terms `names` (the non-zero ones of `config.loss.terms`) on a
    batch, traced inside the jitted step. Raises ValueError for a term this task's model cannot
    serve, naming the fix."""

  def evaluate(self, params: Any, model_state: Mapping[str, Any]) -> dict[str, float]:
    """Cheap validation metrics for periodic evaluation (`config.eval.every_steps`); called on
    every process with the replicated state."""

  def report(self, workdir: str, params: Any, model_state: Mapping[str, Any],
             step: int) -> dict:
    """The final evaluation: writes `workdir/report.json` (process 0) and returns its dict."""
