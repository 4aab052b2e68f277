"""Where an inserted layer sits, and how a model is run up to it or from it.

A model with a layer inserted after one of its submodules runs in one of three modes, chosen while
it is traced (a context variable, so the model's own `__call__` is never edited):

- `None` (normal): the submodule runs, then the inserted layer; the model sees the layer's output.
- `Stop(point)`: at the insertion point named `point`, the inserted layer's outputs are raised
  as `Reached` and the rest of the model never runs (the front stage).
- `Inject(point, value)`: the submodule and its inserted layer are skipped and `value` is what the
  model sees there (the back stage); what ran before on a placeholder input is dead code that XLA
  removes (and `check_back_independent` proves it is).
"""

import contextlib
import contextvars
import dataclasses
from typing import Any

import jax

_MODE: contextvars.ContextVar = contextvars.ContextVar("gcnet_insert_mode", default=None)


@dataclasses.dataclass(frozen=True)
class Stop:
  point: str


@dataclasses.dataclass(frozen=True)
class Inject:
  point: str
  value: Any


class Reached(Exception):
  """Raised at the insertion point in `Stop` mode; `outputs` are the inserted layer's outputs."""

  def __init__(self, outputs):
    super().__init__("insertion point reached")
    self.outputs = outputs


@contextlib.contextmanager
def mode(value):
  token = _MODE.set(value)
  try:
    yield
  finally:
    _MODE.reset(token)


def current():
  return _MODE.get()


def run_front(call, point: str):
  """`call()` in `Stop(point)` mode; returns the inserted layer's outputs at `point`.

  Raises:
    ValueError: the model returned without passing through `point`.
  """
  with mode(Stop(point)):
    try:
      call()
    except Reached as reached:
      return reached.outputs
  raise ValueError(f"The model returned without calling {point!r}: its __call__ does not pass "
                   "through the insertion point with these arguments.")


def run_back(call, point: str, value):
  """`call()` in `Inject(point, value)` mode: the model from `point` on, fed `value`."""
  with mode(Inject(point, value)):
    return call()


def check_back_independent(back_fn, placeholder, value, point: str) -> None:
  """Raises ValueError when `back_fn(placeholder, value)` uses `placeholder` (the model's input)
  other than through the insertion point, e.g. a skip connection that crosses it: such a model
  cannot be cut into a front and a back there."""
  from jax._src.interpreters import partial_eval as pe  # pylint: disable=g-import-not-at-top
  closed = jax.make_jaxpr(back_fn)(placeholder, value)
  num_outputs = len(closed.jaxpr.outvars)
  _, used = pe.dce_jaxpr(closed.jaxpr, [True] * num_outputs)
  used_placeholder = used[:len(jax.tree.leaves(placeholder))]
  if any(used_placeholder):
    raise ValueError(
        f"The model uses its input after {point!r} other than through {point!r}'s output (a skip "
        f"connection across the insertion point?), so it cannot be split into a front and a back "
        f"there. Insert the layer after a submodule that every path of the model goes through.")
