"""Loads a trained run (config, model, parameters, operating point) from its workdir, for inference.

A workdir written by `gcnet.main` holds `config.json`, `checkpoints/<step>/state` and, after the
final evaluation, `report.json`. Only the parameters are restored: the optimizer state and the data
iterator are not needed, and the dataset is never built, so inference needs no training data.
"""

import dataclasses
import json

import jax
import ml_collections as mlc
import numpy as np
import orbax.checkpoint as ocp
from etils import epath

from gcnet import models

REPORT_FILE = "report.json"
CONFIG_FILE = "config.json"


@dataclasses.dataclass
class LoadedRun:
  """A trained keyword spotter ready for inference.

  Attributes:
    workdir: where it came from.
    config: the run's resolved config.
    model: the Linen module (staged: `num_stages`, `run_stage`).
    params: its "params" collection (NumPy/JAX arrays on the host).
    step: the checkpoint step.
    class_names: `K + 1` label names, background last.
    thetas: float32 `[G]` gate thresholds in use (see `load_run`).
    theta_source: "flag", "report (calibrated)" or "config.eval.theta".
    sample_rate: Hz of the model's input.
    window_len: samples per window.
  """

  workdir: str
  config: mlc.ConfigDict
  model: object
  params: dict
  step: int
  class_names: list[str]
  thetas: np.ndarray
  theta_source: str
  sample_rate: int
  window_len: int

  @property
  def num_gates(self) -> int:
    return self.model.num_stages - 1

  @property
  def background(self) -> int:
    return len(self.class_names) - 1


def _read_json(path: epath.Path) -> dict | None:
  try:
    return json.loads(path.read_text())
  except (OSError, ValueError):
    return None


def latest_step(workdir) -> int:
  """The newest complete checkpoint step in `workdir/checkpoints` (damaged ones are set aside)."""
  directory = epath.Path(workdir) / "checkpoints"
  steps = sorted(int(p.name) for p in directory.glob("*") if p.name.isdigit()
                 and (p / "state").exists()) if directory.exists() else []
  if not steps:
    raise FileNotFoundError(f"No checkpoint in {directory}: train the run first "
                            "(python -m gcnet.main --config=... --workdir=...).")
  return steps[-1]


def restore_params(workdir, step: int) -> dict:
  """The "params" collection of checkpoint `step`, as arrays on the first CPU device."""
  path = (epath.Path(workdir) / "checkpoints" / str(step) / "state").resolve()
  cpu = jax.sharding.SingleDeviceSharding(jax.devices("cpu")[0])

  def is_array(m):
    return hasattr(m, "shape") and hasattr(m, "dtype")

  with ocp.StandardCheckpointer() as checkpointer:
    metadata = checkpointer.metadata(path)
    tree = getattr(metadata, "item_metadata", None) or metadata
    # Orbax restores the whole saved tree; the target only fixes where the arrays land.
    target = jax.tree.map(
        lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=cpu) if is_array(m) else m,
        dict(tree), is_leaf=is_array)
    return checkpointer.restore(path, target)["params"]


def class_names_of(config, report: dict | None) -> list[str]:
  """Label names: the report's, else those of the config's dataset when known, else numbers."""
  num_classes = len(config.data.positive_classes) + 1
  if report and len(report.get("class_names") or ()) == num_classes:
    return list(report["class_names"])
  if config.data.name == "fsdd":
    from gcnet.data import fsdd  # pylint: disable=g-import-not-at-top
    return [fsdd.DIGIT_NAMES[i] for i in config.data.positive_classes] + ["background"]
  return [str(i) for i in range(num_classes - 1)] + ["background"]


def load_run(workdir: str, theta: float | None = None, step: int | None = None) -> LoadedRun:
  """Loads the run in `workdir`.

  Args:
    workdir: a run directory of `gcnet.main`.
    theta: a threshold for every gate; None: the calibrated thresholds of `report.json`, else
      `config.eval.theta`.
    step: the checkpoint to load; None: the latest.
  Raises:
    FileNotFoundError: no config.json or no checkpoint.
  """
  workdir_path = epath.Path(workdir)
  config_dict = _read_json(workdir_path / CONFIG_FILE)
  if config_dict is None:
    raise FileNotFoundError(f"No readable {CONFIG_FILE} in {workdir}: not a gcnet run directory.")
  config = mlc.ConfigDict(config_dict)
  report = _read_json(workdir_path / REPORT_FILE)
  class_names = class_names_of(config, report)
  model = models.build(config.model, len(class_names))
  step = latest_step(workdir) if step is None else int(step)
  params = restore_params(workdir, step)
  num_gates = model.num_stages - 1
  calibrated = ((report or {}).get("gating") or {}).get("calibrated", {}).get("theta")
  if theta is not None:
    thetas, source = np.full((num_gates,), theta, np.float32), "flag"
  elif calibrated is not None and len(calibrated) == num_gates:
    thetas, source = np.asarray(calibrated, np.float32), "report (calibrated)"
  else:
    thetas, source = np.full((num_gates,), config.eval.theta, np.float32), "config.eval.theta"
  sample_rate = int(config.data.sample_rate)
  return LoadedRun(workdir=str(workdir), config=config, model=model, params=params, step=step,
                   class_names=class_names, thetas=thetas, theta_source=source,
                   sample_rate=sample_rate,
                   window_len=int(round(config.data.window_seconds * sample_rate)))
