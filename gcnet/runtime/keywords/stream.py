"""Always-on streaming: a window slides over a long recording, the back wakes only when gated in.

Window `i` covers samples `[i * hop, i * hop + window_len)` (the tail zero-padded, see
`gcnet.data.audio.windows.sliding_windows`). The front and gate(s) run on every window; the back
runs only on windows every gate passed. A window whose label is a keyword is a detection;
consecutive windows with the same keyword merge into one event spanning them.
"""

import numpy as np

from gcnet.data.audio import windows as aw
from gcnet.eval import compute
from gcnet.runtime.keywords.spotter import KeywordSpotter, decisions


def merge_events(labels: np.ndarray, scores: np.ndarray, gates: np.ndarray, background: int,
                 hop: int, window_len: int, sample_rate: int, class_names, min_windows: int = 1,
                 min_score: float = 0.0) -> list[dict]:
  """Runs of consecutive windows with the same keyword label -> events.

  A run becomes an event only if it spans at least `min_windows` windows and its best score is at
  least `min_score` (posterior smoothing: a spoken keyword lies in several overlapping windows,
  an isolated window rarely is one).

  Args:
    labels: int `[N]` per-window labels (`background` for stopped or background windows).
    scores: float `[N]` per-window scores.
    gates: float `[N]` first gate's probability per window.
    background: the background label.
    hop, window_len, sample_rate: window geometry (samples, Hz).
    class_names: label names.
    min_windows, min_score: the event rule above (1 and 0: every run is an event).
  Returns:
    events `{start_s, end_s, detected_s, peak_s, label, label_name, score, gate, windows}`: start
    of the first window, end of the last, when the first window was complete (the earliest moment
    a streaming device could report it), centre of the best-scoring window, its score and gate,
    window count.
  """
  events, i, n = [], 0, labels.shape[0]
  while i < n:
    if labels[i] == background:
      i += 1
      continue
    j = i
    while j + 1 < n and labels[j + 1] == labels[i]:
      j += 1
    best = i + int(np.argmax(scores[i:j + 1]))
    if j - i + 1 < min_windows or scores[best] < min_score:
      i = j + 1
      continue
    events.append({
        "start_s": i * hop / sample_rate,
        "end_s": (j * hop + window_len) / sample_rate,
        "detected_s": (i * hop + window_len) / sample_rate,
        "peak_s": (best * hop + window_len / 2) / sample_rate,
        "label": int(labels[i]),
        "label_name": class_names[int(labels[i])],
        "score": float(scores[best]),
        "gate": float(gates[best]),
        "windows": j - i + 1,
    })
    i = j + 1
  return events


def stream_file(spotter: KeywordSpotter, wave: np.ndarray, hop_seconds: float = 0.25,
                min_windows: int = 1, min_score: float = 0.0) -> dict:
  """Streams `wave [T]` (at the run's rate) through the model (`merge_events` for the event rule).

  Returns:
    `{duration_s, window_seconds, hop_seconds, num_windows, windows_stopped, stopped_fraction,
    back_windows, flops_per_window, flops_per_window_ungated, compute_saving, detections: [event]}`;
    `back_windows` counts the windows the back really ran on; the FLOPs (XLA's count per window,
    `gcnet.eval.compute`) are the front and gate on every window plus the back on those it ran on,
    against every part on every window; `compute_saving` is their ratio.
  """
  rate, window_len, runner = spotter.sample_rate, spotter.window_len, spotter.runner
  hop = max(1, int(round(hop_seconds * rate)))
  windows = aw.sliding_windows(np.asarray(wave, np.float32), window_len, hop)
  back_before = runner.samples[-1]
  out = runner(windows)
  labels, scores = decisions(out)
  first_gate = (out.gate_probs[:, 0] if spotter.num_gates
                else np.ones(windows.shape[0], np.float32))
  events = merge_events(labels, scores, first_gate, spotter.background, hop, window_len, rate,
                        spotter.class_names, min_windows, min_score)
  num_stopped = int(np.count_nonzero(out.stopped_at < spotter.num_gates))
  costs = spotter.costs()
  reach = [float(np.mean(out.stopped_at >= i)) for i in range(spotter.num_gates + 1)]
  expected = compute.expected_flops(costs, reach)
  total = costs["total"]["flops_xla"]
  return {
      "duration_s": wave.shape[0] / rate,
      "window_seconds": window_len / rate,
      "hop_seconds": hop / rate,
      "min_windows": int(min_windows),
      "min_score": float(min_score),
      "num_windows": int(windows.shape[0]),
      "windows_stopped": num_stopped,
      "stopped_fraction": num_stopped / windows.shape[0],
      "back_windows": runner.samples[-1] - back_before,
      "flops_per_window": expected,
      "flops_per_window_ungated": total,
      "compute_saving": total / expected if expected else None,
      "detections": events,
  }
