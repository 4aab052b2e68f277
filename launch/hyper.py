"""Sweeps as data: the `hyper` argument of an experiment's `get_sweep(hyper)`.

A sweep is a list of runs; a run is a dict from config key (`"config.loss.terms.gate_bce"`) to
value. The combinators build such lists:

  hyper.product([hyper.sweep("config.a", [1, 2]), hyper.sweep("config.b", [3, 4])])
      -> [{a: 1, b: 3}, {a: 1, b: 4}, {a: 2, b: 3}, {a: 2, b: 4}]   (last key varies fastest)
  hyper.zipit([hyper.sweep("config.a", [1, 2]), hyper.sweep("config.b", [3, 4])])
      -> [{a: 1, b: 3}, {a: 2, b: 4}]
  hyper.chain([hyper.sweep("config.a", [1]), hyper.sweep("config.b", [3])])
      -> [{a: 1}, {b: 3}]
  hyper.random({"config.a": hyper.loguniform(1e-4, 1e-2), "config.b": hyper.choice([1, 2])},
               n=8, seed=0)
      -> 8 runs drawn independently, the same 8 for the same seed

Random search is expanded up front from a seeded NumPy generator, so a sweep stays plain data:
it can be printed for another launcher, and a restarted runner finds the same runs.
"""

import dataclasses
import itertools
from typing import Any, Mapping, Sequence, Union

import numpy as np

Run = dict
Sweep = list


def _check_key(key: str) -> str:
  if not isinstance(key, str) or not key.startswith("config.") or key == "config.":
    raise ValueError(f"Sweep keys are config paths such as 'config.train.learning_rate'; "
                     f"got {key!r}.")
  return key


def _plain(value: Any) -> Any:
  """NumPy scalars become Python numbers (for flags, JSON and names)."""
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, list):
    return tuple(_plain(v) for v in value)
  return value


def sweep(key: str, values: Sequence[Any]) -> Sweep:
  """One run per value of `key`."""
  _check_key(key)
  if isinstance(values, (str, bytes)) or not len(values):
    raise ValueError(f"sweep({key!r}, ...) needs a non-empty sequence of values.")
  return [{key: _plain(v)} for v in values]


def fixed(key: str, value: Any) -> Sweep:
  """A single run setting `key` (useful inside `product` and `zipit`)."""
  return sweep(key, [value])


def _merge(runs: Sequence[Run]) -> Run:
  merged = {}
  for run in runs:
    overlap = set(merged) & set(run)
    if overlap:
      raise ValueError(f"Sweep combines runs that both set {sorted(overlap)}.")
    merged.update(run)
  return merged


def product(sweeps: Sequence[Sweep]) -> Sweep:
  """The Cartesian product of `sweeps`; the last one varies fastest."""
  return [_merge(runs) for runs in itertools.product(*sweeps)]


def zipit(sweeps: Sequence[Sweep]) -> Sweep:
  """Runs merged position by position; the sweeps must have the same length."""
  lengths = {len(s) for s in sweeps}
  if len(lengths) > 1:
    raise ValueError(f"zipit needs sweeps of the same length; got lengths "
                     f"{[len(s) for s in sweeps]}.")
  return [_merge(runs) for runs in zip(*sweeps)]


def chain(sweeps: Sequence[Sweep]) -> Sweep:
  """The runs of each sweep one after the other."""
  return [dict(run) for s in sweeps for run in s]


# Distributions for `random`.


@dataclasses.dataclass(frozen=True)
class Uniform:
  low: float
  high: float

  def sample(self, rng: np.random.Generator):
    return float(rng.uniform(self.low, self.high))


@dataclasses.dataclass(frozen=True)
class LogUniform:
  low: float
  high: float

  def __post_init__(self):
    if not 0 < self.low < self.high:
      raise ValueError(f"loguniform needs 0 < low < high; got {self.low}, {self.high}.")

  def sample(self, rng: np.random.Generator):
    return float(np.exp(rng.uniform(np.log(self.low), np.log(self.high))))


@dataclasses.dataclass(frozen=True)
class RandInt:
  low: int
  high: int  # inclusive

  def sample(self, rng: np.random.Generator):
    return int(rng.integers(self.low, self.high + 1))


@dataclasses.dataclass(frozen=True)
class Choice:
  values: tuple

  def sample(self, rng: np.random.Generator):
    return _plain(self.values[int(rng.integers(len(self.values)))])


Distribution = Union[Uniform, LogUniform, RandInt, Choice]


def uniform(low: float, high: float) -> Uniform:
  """Uniform on [low, high)."""
  return Uniform(float(low), float(high))


def loguniform(low: float, high: float) -> LogUniform:
  """Log-uniform on [low, high): learning rates, loss weights."""
  return LogUniform(float(low), float(high))


def randint(low: int, high: int) -> RandInt:
  """Uniform over the integers low..high, both included."""
  return RandInt(int(low), int(high))


def choice(values: Sequence[Any]) -> Choice:
  """Uniform over a list of values."""
  if not len(values):
    raise ValueError("choice needs at least one value.")
  return Choice(tuple(values))


def random(space: Mapping[str, Distribution], n: int, seed: int = 0) -> Sweep:
  """`n` runs, each key drawn independently from its distribution (random search).

  Args:
    space: config key -> distribution (`uniform`, `loguniform`, `randint`, `choice`) or a
      plain list of values (a `choice`).
    n: number of runs.
    seed: seed of the NumPy generator; the same seed gives the same runs.
  """
  if n < 1:
    raise ValueError(f"random needs n >= 1; got {n}.")
  dists = {}
  for key, dist in space.items():
    _check_key(key)
    dists[key] = choice(dist) if isinstance(dist, (list, tuple)) else dist
  rng = np.random.default_rng(seed)
  return [{key: dist.sample(rng) for key, dist in dists.items()} for _ in range(n)]
