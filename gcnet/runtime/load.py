"""THE loader of a trained run: config, model, parameters and operating point from its workdir.

Every tool that uses a trained run (predict, codec, export, threshold sweeps, benchmarks) loads it
here, so relative paths, damaged checkpoints and runs of the wrong kind behave the same everywhere.

    run = load_run("runs/fmnist_gc")            # or: config, model, params, dataset = load_run(...)
    logits = run.model.apply({"params": run.params}, images)
    thetas, source = run.thetas()               # calibrated in report.json, else config.eval.theta
    run = load_run(workdir, kinds=("classification",), inputs="audio", tool="gcnet.cli.predict")

The run directory is read through `gcnet.train.run_dir` (its layout) and
`gcnet.train.checkpoint.restore_params` (only the train state item, only its `params` and
`model_state`; a checkpoint that cannot be read is skipped, with a warning, for the previous one;
nothing in the run directory is changed).

A run's kind is its task's name (`config.loss.task`: "classification", "codec", or a user's
"module.path:Class"; `gcnet.tasks.task_name`), stored in its `config.json` and checked against the
tasks gcnet can build, so an unknown task is a clear error. What a classifier reads, "audio"
windows or "images" (`run_inputs`), is checked apart from the kind where a tool needs one of them.
"""

import dataclasses
import logging
from typing import Any

import ml_collections as mlc
import numpy as np

from gcnet import tasks
from gcnet.data import labels
from gcnet.data.contract import UNLABELLED
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
    kind: the name of the run's task (`gcnet.tasks.task_name`), e.g. "classification", "codec".
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

  def _dataset(self):
    if self.dataset is None:
      raise ValueError(f"The dataset of {self.workdir} is not available here (load_run(..., "
                       "with_dataset=True) needs its data on this machine).")
    return self.dataset

  def split_inputs(self, split: str = "test", num: int | None = None) -> dict:
    """The first `num` examples of `split` (all when None): `{"inputs" [n, ...], "label" [n]}`
    ("label" only for labelled data)."""
    source = self._dataset().source(split)
    batch = source.read_batch(range(len(source) if num is None else min(int(num), len(source))))
    return {k: batch[k] for k in ("inputs", "label") if k in batch}

  def split_predictions(self, split: str, batch_size: int | None = None) -> dict:
    """`gcnet.eval.collect_predictions` of the model over `split` (every sample, no gating)."""
    from gcnet import data as data_lib  # pylint: disable=g-import-not-at-top
    from gcnet import eval as eval_lib  # pylint: disable=g-import-not-at-top
    batches = data_lib.eval_batches(self._dataset(), split,
                                    batch_size=batch_size or int(self.config.eval.batch_size))
    return eval_lib.collect_predictions(self.model, self.params, batches)

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
  def class_names(self) -> list[str]:
    """The `K + 1` label names (the K positive classes, then "background"), for every kind of run:
    `[]` when its data has no labels (a codec).

    From `report.json`, else the dataset, else the positive classes' numbers.
    """
    positive = (self.config.get("data") or {}).get("positive_classes")
    return list(labels.label_names(
        num_classes_of(self.config, self.dataset), (self.report or {}).get("class_names"),
        None if self.dataset is None else self.dataset.class_names,
        None if positive is None else [str(c) for c in positive]))


class WrongRunKind(ValueError):
  """A tool was given a run of another kind (e.g. a codec run to the keyword tools)."""


def run_inputs(config) -> str:
  """"audio" (the data has a `sample_rate`) or "images": what the run's model reads."""
  return "audio" if "sample_rate" in (config.get("data") or {}) else "images"


def num_classes_of(config, dataset=None) -> int:
  """`K + 1` from the dataset, else `config.data.positive_classes`; `UNLABELLED` without labels."""
  if dataset is not None:
    return int(dataset.num_classes)
  positive = (config.get("data") or {}).get("positive_classes")
  return UNLABELLED if positive is None else len(positive) + 1


def _check_kind(workdir: str, config, kinds, inputs, tool: str) -> str:
  """The run's kind (its task's name), checked against `kinds` and `inputs` before any restore."""
  kind = tasks.task_name(config)
  tasks.task_class(kind)  # An unknown task: a ValueError naming the known ones.
  wrong_inputs = inputs is not None and run_inputs(config) != inputs
  if (kinds is not None and kind not in kinds) or wrong_inputs:
    needs = " or ".join(map(repr, kinds)) if kinds is not None else "any kind"
    raise WrongRunKind(
        f"{workdir} is a run of kind {kind!r} on {run_inputs(config)} (model "
        f"{config.model.get('name')!r}), but {tool or 'this tool'} needs a run of kind {needs}"
        f"{f' on {inputs}' if inputs else ''}: point --workdir at one.")
  return kind


def _read_report(workdir) -> dict | None:
  try:
    return run_dir.read_report(workdir)
  except (OSError, ValueError):
    return None


def load_run(workdir, *, with_dataset: bool = True, step: int | None = None,
             kinds: tuple[str, ...] | None = None, inputs: str | None = None,
             tool: str = "") -> LoadedRun:
  """Loads a trained run from its workdir.

  Args:
    workdir: the run directory (`config.json`, `checkpoints/<step>/state`); relative paths work.
    with_dataset: also build the run's dataset (None, with a warning, when it cannot be built here).
    step: the checkpoint to load; None: the newest one that reads.
    kinds: the task names of the runs the caller can use (None: any), checked before anything is
      restored.
    inputs: "audio" or "images": what the caller needs the run's model to read (None: either).
    tool: the caller's name, for the error message.
  Returns:
    a `LoadedRun` (unpacks as `config, model, params, dataset`).
  Raises:
    FileNotFoundError: no `config.json`, or no checkpoint.
    WrongRunKind: the run's kind is not in `kinds`, or its inputs not `inputs` (the message names
      both).
    ValueError: the run's task is not one gcnet can build (the message names the known ones).
  """
  from gcnet import models  # pylint: disable=g-import-not-at-top
  from gcnet.train import precision  # pylint: disable=g-import-not-at-top
  workdir = str(run_dir.resolve(workdir))
  config = run_dir.read_config(workdir)
  kind = _check_kind(workdir, config, kinds, inputs, tool)
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
