"""THE loader of a trained run: config, model, parameters and operating point from its workdir.

Every tool that uses a trained run (predict, codec, export, threshold sweeps, benchmarks) loads it
here, so relative paths, damaged checkpoints and runs of the wrong kind behave the same everywhere.

    run = load_run("runs/fmnist_gc")            # or: config, model, params, dataset = load_run(...)
    logits = run.model.apply({"params": run.params}, images)
    thetas, source = run.thetas()               # calibrated in report.json, else config.eval.theta
    run = load_run(workdir, kinds=("keyword",), tool="gcnet.cli.predict")   # else WrongRunKind

Only the `"state"` item of the Orbax checkpoint is read, as a plain pytree of NumPy arrays (no
abstract train state, no optimizer or data iterator, no device mesh), and only its `params` and
`model_state` are kept. A checkpoint that cannot be read is skipped (with a warning) for the
previous one; nothing in the run directory is changed.

Kinds of run (`run_kind`): "image" (an image classifier, gated or not), "keyword" (a keyword
spotter on audio windows) and "codec" (a neural audio codec).
"""

import dataclasses
import json
import logging
from typing import Any

import jax
import ml_collections as mlc
import numpy as np
import orbax.checkpoint as ocp
from etils import epath

CONFIG_FILE = "config.json"
REPORT_FILE = "report.json"
CHECKPOINT_DIR = "checkpoints"
STATE_ITEM = "state"


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


def resolve_workdir(workdir) -> str:
  """`workdir` as an absolute path (Orbax needs one); URLs such as gs:// are kept as they are."""
  workdir = str(workdir)
  return workdir if "://" in workdir else str(epath.Path(workdir).resolve())


def load_config(workdir) -> mlc.ConfigDict:
  """The `ConfigDict` stored in `workdir/config.json`.

  Raises:
    FileNotFoundError: `workdir` holds no `config.json` (not a gcnet run directory).
  """
  path = epath.Path(workdir) / CONFIG_FILE
  if not path.exists():
    raise FileNotFoundError(f"{path} does not exist: {workdir} is not a gcnet run directory "
                            "(python -m gcnet.cli.train --workdir=... writes it).")
  return mlc.ConfigDict(json.loads(path.read_text()))


def checkpoint_steps(workdir) -> list[int]:
  """Steps of the checkpoints in `workdir/checkpoints` (directories named by numbers), ascending."""
  directory = epath.Path(workdir) / CHECKPOINT_DIR
  if not directory.exists():
    return []
  return sorted(int(p.name) for p in directory.iterdir()
                if p.name.isdigit() and (p / STATE_ITEM).exists())


def _restore_state(path: epath.Path) -> dict:
  """The saved train state at `path` as nested dicts of NumPy arrays (no target structure)."""
  absl_logger = logging.getLogger("absl")
  level = absl_logger.level
  absl_logger.setLevel(logging.ERROR)  # Orbax warns that the step-level metadata is elsewhere.
  try:
    checkpointer = ocp.PyTreeCheckpointer()
    metadata = checkpointer.metadata(path)
    tree = getattr(metadata, "item_metadata", None) or getattr(metadata, "tree", None) or metadata
    tree = getattr(tree, "tree", tree)
    restore_args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), tree)
    return checkpointer.restore(path, args=ocp.args.PyTreeRestore(restore_args=restore_args))
  finally:
    absl_logger.setLevel(level)


def restore_params(workdir, step: int | None = None) -> tuple[dict, dict, int]:
  """`(params, model_state, step)` from the newest readable checkpoint (or the given `step`).

  Raises:
    FileNotFoundError: the workdir has no checkpoint (or not `step`).
    RuntimeError: no checkpoint could be read.
  """
  steps = checkpoint_steps(workdir)
  if step is not None:
    if step not in steps:
      raise FileNotFoundError(f"No checkpoint at step {step} in {workdir}/{CHECKPOINT_DIR}; "
                              f"steps there: {steps}.")
    steps = [step]
  if not steps:
    raise FileNotFoundError(
        f"No checkpoint in {workdir}/{CHECKPOINT_DIR}: train the run first (python -m "
        f"gcnet.cli.train --config=... --workdir={workdir}), or point --workdir at a finished run.")
  errors = []
  for s in reversed(steps):
    path = epath.Path(workdir) / CHECKPOINT_DIR / str(s) / STATE_ITEM
    try:
      state = _restore_state(path)
    except Exception as e:  # pylint: disable=broad-except  (truncated, corrupt, missing files)
      logging.warning("Checkpoint at step %d of %s could not be read (%s); trying the previous "
                      "one.",
                      s, workdir, e)
      errors.append(f"step {s}: {type(e).__name__}: {e}")
      continue
    params = jax.tree.map(jax.numpy.asarray, state["params"])
    model_state = jax.tree.map(jax.numpy.asarray, dict(state.get("model_state") or {}))
    return params, model_state, s
  raise RuntimeError(f"No checkpoint of {workdir} could be read:\n" + "\n".join(errors))


def num_classes_of(config, dataset=None) -> int | None:
  """`K + 1` from the dataset, else `config.data.positive_classes`; None for unlabelled data."""
  if dataset is not None and hasattr(dataset, "num_classes"):
    return int(dataset.num_classes)
  positive = config.get("data", {}).get("positive_classes") if "data" in config else None
  return None if positive is None else len(positive) + 1


def _read_report(workdir) -> dict | None:
  try:
    return json.loads((epath.Path(workdir) / REPORT_FILE).read_text())
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
  workdir = resolve_workdir(workdir)
  config = load_config(workdir)
  kind = run_kind(config)
  if kinds is not None and kind not in kinds:
    raise WrongRunKind(
        f"{workdir} is a run of kind {kind!r} (model {config.model.get('name')!r}), but "
        f"{tool or 'this tool'} needs a run of kind {' or '.join(map(repr, kinds))}: point "
        "--workdir at one.")
  params, model_state, restored_step = restore_params(workdir, step)
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
