"""A trained keyword spotter ready for audio: its run, staged runner, thresholds and window geometry.

    spotter = load_spotter("runs/fsdd_kws_gc")            # thresholds: report, else config
    out = spotter.runner(windows)                         # StagedOutput: the back ran on passed ones
    labels, scores = decisions(out)
"""

import dataclasses

import numpy as np

from gcnet.runtime.load import LoadedRun, load_run
from gcnet.runtime.staged_model import StagedModel
from gcnet.runtime.staged_runner import StagedOutput, StagedRunner


@dataclasses.dataclass
class KeywordSpotter:
  """Attributes:
    run: the loaded keyword run.
    runner: its `StagedRunner` at `thetas` (`runner.samples[i]` counts the windows stage i ran on).
    thetas: float32 `[G]` gate thresholds in use.
    theta_source: "given", "report (calibrated)" or "config.eval.theta".
    class_names: `K + 1` label names, background last.
    sample_rate: Hz of the model's input.
    window_len: samples per window.
  """

  run: LoadedRun
  runner: StagedRunner
  thetas: np.ndarray
  theta_source: str
  class_names: list[str]
  sample_rate: int
  window_len: int

  @property
  def num_gates(self) -> int:
    return self.run.num_gates

  @property
  def background(self) -> int:
    return len(self.class_names) - 1

  def costs(self) -> dict:
    """Per-window FLOPs of each part (`gcnet.eval.compute.stage_costs`), computed once."""
    if not hasattr(self, "_costs"):
      import jax  # pylint: disable=g-import-not-at-top
      from gcnet.eval import compute  # pylint: disable=g-import-not-at-top
      example = jax.ShapeDtypeStruct((1, self.window_len), np.float32)
      self._costs = compute.stage_costs(self.run.model, self.run.params, example)
    return self._costs


def load_spotter(workdir, theta: float | None = None, batch_size: int = 64,
                 tool: str = "gcnet.cli.predict") -> KeywordSpotter:
  """Loads the keyword run in `workdir` (no training data needed).

  Args:
    workdir: a keyword run's directory (relative paths work).
    theta: one threshold for every gate; None: the run's (`LoadedRun.thetas`).
    batch_size: windows per stage call.
  Raises:
    FileNotFoundError: no config.json or no checkpoint.
    gcnet.runtime.load.WrongRunKind: not a keyword run.
  """
  run = load_run(workdir, with_dataset=False, kinds=("classification",), inputs="audio",
                 tool=tool)
  thetas, source = run.thetas(theta)
  runner = StagedRunner(StagedModel(run.model, run.params), thetas, max_batch=batch_size)
  rate = int(run.config.data.sample_rate)
  return KeywordSpotter(run=run, runner=runner, thetas=np.asarray(thetas, np.float32),
                        theta_source=source, class_names=run.class_names, sample_rate=rate,
                        window_len=int(round(run.config.data.window_seconds * rate)))


def softmax(logits: np.ndarray) -> np.ndarray:
  """Row-wise softmax of float `[N, C]`."""
  e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
  return e / e.sum(axis=-1, keepdims=True)


def decisions(out: StagedOutput) -> tuple[np.ndarray, np.ndarray]:
  """Labels int `[N]` (background when stopped) and scores float32 `[N]`.

  The score is the softmax probability of the label for a window the back ran on, and
  `1 - gate` (of the gate that stopped it) for a stopped window.
  """
  num_gates = out.gate_probs.shape[1]
  reached = out.stopped_at == num_gates
  labels = out.predictions.astype(np.int64)
  scores = np.zeros(labels.shape, np.float32)
  stopped = np.flatnonzero(~reached)
  scores[stopped] = 1.0 - out.gate_probs[stopped, out.stopped_at[stopped]]
  if reached.any():
    scores[reached] = softmax(out.logits[reached]).max(-1)
  return labels, scores
