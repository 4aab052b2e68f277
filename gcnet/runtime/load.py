"""THE loader of a trained run: config, model, parameters and operating point from its workdir.

Every tool that uses a trained run (predict, codec, export, threshold sweeps, benchmarks) loads it
here, so relative paths, damaged checkpoints and runs of the wrong kind behave the same everywhere.

    run = load_run("runs/fmnist_gc")            # or: config, model, params, dataset = load_run(...)
    logits = run.model.apply({"params": run.params}, images)
    thetas, source = run.thetas()               # calibrated in report.json, else config.eval.theta
    run = load_run(workdir, kinds=("keyword",), tool="gcnet.cli.predict")   # else WrongRunKind

The run directory is read through `gcnet.train.run_dir` (its layout) and
`gcnet.train.checkpoint.restore_params` (only the train state item, only its `params` and
`model_state`; a checkpoint that cannot be read is skipped, with a warning, for the previous one;
nothing in the run directory is changed).

Kinds of run (`run_kind`): "image" (an image classifier, gated or not), "keyword" (a keyword
spotter on audio windows) and "codec" (a neural audio codec).
"""

import dataclasses
import logging
from typing import Any

import ml_collections as mlc
import numpy as np

from gcnet.train import checkpoint
from gcnet.train import run_dir



@dataclasses.dataclass
class LoadedRun:
  """A trained run. Unpacks as `config, model, params, dataset = load_run(workdir)`.

  Attributes:
    config: the run's `ml_collections.ConfigDict` (from `config.json`).
    model: the Linen module built from `config.model`.
    params: its `"params"` pytree (jax arrays on the default device).
    dataset: the run's dataset, or None (not asked for, or not available here).
    model_state: the other variable collections carried in training (e.g. the codec's
      `"quantizer"`); `{}` for the GC models.
    step: the training step of the restored checkpoint.
    workdir: the run directory (absolute).
    kind: "image", "keyword" or "codec" (`run_kind`).
    report: the run's `report.json`, or None when it has none (or it cannot be read).
  """

  config: mlc.ConfigDict
  model: Any
  params: Any
  dataset: Any
  model_state: dict
  step: int
  workdir: str
  kind: str
  report: dict | None

  def __iter__(self):
    return iter((self.config, self.model, self.params, self.dataset))

  @property
  def variables(self) -> dict:
    """`{"params": ..., **model_state}`, what `model.apply` takes."""
    return {"params": self.params, **self.model_state}

  @property
  def num_gates(self) -> int:
    """`G`, the number of gates (0 for ungated models and codecs)."""
    return self.model.num_stages - 1 if hasattr(self.model, "num_stages") else 0

  def thetas(self, theta=None) -> tuple[list[float], str]:
    """The `G` gate thresholds a deployment should use, and where they come from.

    Args:
      theta: None, a float for every gate, or `G` floats (e.g. a command-line flag).
    Returns:
      `(thetas, source)`: `theta` ("given"); else `report.json`'s thresholds calibrated on
      validation for `config.eval.target_recall` ("report (calibrated)"); else
      `config.eval.theta` for every gate ("config.eval.theta").
    Raises:
      ValueError: `theta` has neither 1 nor `G` values.
    """
    g = self.num_gates
    if theta is not None:
      values = [float(t) for t in np.atleast_1d(np.asarray(theta, np.float64))]
      if len(values) == 1:
        values *= g
      if len(values) != g:
        raise ValueError(f"{len(values)} thresholds given for the {g} gates of {self.workdir}.")
      return values, "given"
    calibrated = (((self.report or {}).get("gating") or {}).get("calibrated") or {}).get("theta")
    if calibrated is not None and len(calibrated) == g:
      return [float(t) for t in calibrated], "report (calibrated)"
    return [float(self.config.eval.get("theta", 0.5))] * g, "config.eval.theta"

  @property
  def class_names(self) -> list[str] | None:
    """The `K + 1` label names (the K positive classes, then "background"); None for a codec.

    From `report.json`, else the dataset, else the positive classes' numbers.
    """
    k1 = num_classes_of(self.config, self.dataset)
    if k1 is None:
      return None
    for names in ((self.report or {}).get("class_names"),
                  getattr(self.dataset, "class_names", None)):
      if names is not None and len(names) == k1:
        return [str(n) for n in names]
    return [str(i) for i in self.config.data.positive_classes] + ["background"]


class WrongRunKind(ValueError):
  """A tool was given a run of another kind (e.g. an image run to the keyword tools)."""


def run_kind(config) -> str:
  """"codec" (unlabelled data: no `config.data.positive_classes`), "keyword" (labelled audio:
  `config.data.sample_rate`) or "image"."""
  data = config.get("data") or {}
  if "positive_classes" not in data:
    return "codec"
  return "keyword" if "sample_rate" in data else "image"


def num_classes_of(config, dataset=None) -> int | None:
  """`K + 1` from the dataset, else `config.data.positive_classes`; None for unlabelled data."""
  if dataset is not None and hasattr(dataset, "num_classes"):
    return int(dataset.num_classes)
  positive = config.get("data", {}).get("positive_classes") if "data" in config else None
  return None if positive is None else len(positive) + 1


def _read_report(workdir) -> dict | None:
  try:
    return run_dir.read_report(workdir)
  except (OSError, ValueError):
    return None


def load_run(workdir, *, with_dataset: bool = True, step: int | None = None,
             kinds: tuple[str, ...] | None = None, tool: str = "") -> LoadedRun:
  """Loads a trained run from its workdir.

  Args:
    workdir: the run directory (`config.json`, `checkpoints/<step>/state`); relative paths work.
    with_dataset: also build the run's dataset (None, with a warning, when it cannot be built here).
    step: the checkpoint to load; None: the newest one that reads.
    kinds: the kinds of run the caller can use (None: any), checked before anything is restored.
    tool: the caller's name, for the error message.
  Returns:
    a `LoadedRun` (unpacks as `config, model, params, dataset`).
  Raises:
    FileNotFoundError: no `config.json`, or no checkpoint.
    WrongRunKind: the run's kind is not in `kinds` (the message names both).
  """
  from gcnet import models  # pylint: disable=g-import-not-at-top
  from gcnet.train import precision  # pylint: disable=g-import-not-at-top
  workdir = str(run_dir.resolve(workdir))
  config = run_dir.read_config(workdir)
  kind = run_kind(config)
  if kinds is not None and kind not in kinds:
    raise WrongRunKind(
        f"{workdir} is a run of kind {kind!r} (model {config.model.get('name')!r}), but "
        f"{tool or 'this tool'} needs a run of kind {' or '.join(map(repr, kinds))}: point "
        "--workdir at one.")
  params, model_state, restored_step = checkpoint.restore_params(workdir, step)
  dataset = None
  if with_dataset and "data" in config:
    from gcnet import data  # pylint: disable=g-import-not-at-top
    try:
      dataset = data.get_dataset(config.data)
    except Exception as e:  # pylint: disable=broad-except  (data not on this machine)
      logging.warning("The dataset of %s could not be built here (%s); dataset=None.", workdir, e)
  model = models.build(config.model, num_classes_of(config, dataset),
                       precision.compute_dtype(config.train))
  return LoadedRun(config=config, model=model, params=params, dataset=dataset,
                   model_state=model_state, step=restored_step, workdir=workdir, kind=kind,
                   report=_read_report(workdir))
