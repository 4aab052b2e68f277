"""Loads a trained keyword spotter with its operating point (gate thresholds, class names, window).

Config, model and parameters come from `gcnet.deploy.load` (one checkpoint reader for every tool,
with its fallback past an unreadable checkpoint); this adds what inference on audio files needs:
the thresholds (calibrated in `report.json`, or given), the label names and the window length. The
dataset is never built, so inference needs no training data.
"""

import dataclasses
import json

import ml_collections as mlc
import numpy as np
from etils import epath

from gcnet import models
from gcnet.deploy import load as deploy_load

REPORT_FILE = "report.json"


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


def class_names_of(config, report: dict | None) -> list[str]:
  """Label names: the report's, else those of the config's dataset when known, else numbers."""
  num_classes = len(config.data.positive_classes) + 1
  if report and len(report.get("class_names") or ()) == num_classes:
    return list(report["class_names"])
  if config.data.name == "fsdd":
    from gcnet.data.audio import fsdd  # pylint: disable=g-import-not-at-top
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
  config = deploy_load.load_config(workdir)
  report = _read_json(epath.Path(workdir) / REPORT_FILE)
  class_names = class_names_of(config, report)
  model = models.build(config.model, len(class_names))
  params, _, step = deploy_load.restore_params(workdir, None if step is None else int(step))
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
