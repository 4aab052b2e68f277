"""The always-on decision, chosen on validation streams: a level stage, then the event rule.

A streamed recording is run once (`stream_windows`: every window's label, score, first-gate
probability, the stage it stopped at, and its RMS level). Every operating point is then a cheap
function of those arrays:

- **level stage** (`min_level_db`): a window quieter than this RMS (dBFS) is stopped before the
  front, at the cost of one mean of squares (`level_flops = 2 * window_len`), counted in the
  compute like any stage. None: no level stage.
- **event rule** (`min_windows`, `min_score`, see `stream.merge_events`): a run of keyword windows
  is a detection only if it spans `min_windows` windows and its best softmax reaches `min_score`.

`choose(validation, max_fa_per_hour)` picks the operating point with the best keyword recall on
the validation speaker's stream whose false alarms per hour (validation background plus the
validation stream's own) stay within `max_fa_per_hour`; ties go to fewer alarms, then to the
louder level stage (cheaper). The test streams are scored only at the chosen point, and with every
point for the recall-versus-false-alarms curve (`curve`).
"""

import dataclasses
import itertools
import math

import numpy as np

from gcnet.data.audio import windows as aw
from gcnet.eval import compute
from gcnet.runtime.keywords import stream as stream_lib
from gcnet.runtime.keywords import stream_truth
from gcnet.runtime.keywords.spotter import KeywordSpotter, decisions

LEVELS_DB = (None, -75.0, -70.0, -65.0, -60.0, -55.0, -50.0)
MIN_WINDOWS = (1, 2, 3, 4)
MIN_SCORES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


@dataclasses.dataclass(frozen=True)
class OperatingPoint:
  min_level_db: float | None
  min_windows: int
  min_score: float


def grid(levels=LEVELS_DB, min_windows=MIN_WINDOWS, min_scores=MIN_SCORES):
  return [OperatingPoint(*p) for p in itertools.product(levels, min_windows, min_scores)]


def window_levels_db(windows: np.ndarray) -> np.ndarray:
  """RMS level (dBFS) of each window `[N, L]` -> `[N]` (-inf for digital silence)."""
  ms = np.mean(np.square(windows, dtype=np.float64), axis=1)
  with np.errstate(divide="ignore"):
    return 10.0 * np.log10(ms)


def stream_windows(spotter: KeywordSpotter, wave: np.ndarray, hop_seconds: float = 0.25) -> dict:
  """Runs every window of `wave` once; returns the per-window arrays and the geometry."""
  rate, window_len = spotter.sample_rate, spotter.window_len
  hop = max(1, int(round(hop_seconds * rate)))
  windows = aw.sliding_windows(np.asarray(wave, np.float32), window_len, hop)
  out = spotter.runner(windows)
  labels, scores = decisions(out)
  gates = out.gate_probs[:, 0] if spotter.num_gates else np.ones(len(windows), np.float32)
  return {"labels": labels, "scores": scores, "gates": gates, "stopped_at": out.stopped_at,
          "levels_db": window_levels_db(windows), "hop": hop, "window_len": window_len,
          "sample_rate": rate, "duration_s": wave.shape[0] / rate}


def apply(spotter: KeywordSpotter, arrays: dict, point: OperatingPoint) -> dict:
  """Detections and compute of one operating point on one streamed recording.

  Returns:
    `{detections, stopped_fraction, level_stopped_fraction, compute_saving, flops_per_window}`;
    a window counts as stopped when the level stage or a gate stopped it.
  """
  active = (np.ones(arrays["labels"].shape, bool) if point.min_level_db is None
            else arrays["levels_db"] >= point.min_level_db)
  labels = np.where(active, arrays["labels"], spotter.background)
  events = stream_lib.merge_events(labels, arrays["scores"], arrays["gates"], spotter.background,
                                   arrays["hop"], arrays["window_len"], arrays["sample_rate"],
                                   spotter.class_names, point.min_windows, point.min_score)
  g = spotter.num_gates
  reach = [float(np.mean(active & (arrays["stopped_at"] >= i))) for i in range(g + 1)]
  costs = spotter.costs()
  total = costs["total"]["flops_xla"]
  level_flops = 0.0 if point.min_level_db is None else 2.0 * arrays["window_len"]
  network = _scaled_flops(costs, reach) if g else reach[0] * total
  expected = level_flops + network
  stopped = ~active | (arrays["stopped_at"] < g)
  return {"detections": events, "stopped_fraction": float(np.mean(stopped)),
          "level_stopped_fraction": float(np.mean(~active)),
          "flops_per_window": expected, "compute_saving": total / expected if expected else None}


def _scaled_flops(costs: dict, reach) -> float:
  """Expected FLOPs when only `reach[0]` of the windows enter the front at all."""
  if reach[0] <= 0:
    return 0.0
  return reach[0] * compute.expected_flops(costs, [1.0] + [r / reach[0] for r in reach[1:]])


def score(spotter, streams, point: OperatingPoint) -> dict:
  """Sums one operating point over `streams` `[(arrays, truth)]`: keywords, hits, recall, false
  alarms, hours, false alarms per hour, and the per-stream results."""
  keywords = hits = alarms = 0
  hours = 0.0
  per = []
  for arrays, truth in streams:
    res = apply(spotter, arrays, point)
    scored = stream_truth.score_detections(res["detections"], truth)
    keywords, hits, alarms = (keywords + scored["keywords"], hits + scored["hits"],
                              alarms + scored["false_alarms"])
    hours += arrays["duration_s"] / 3600.0
    per.append({**{k: v for k, v in res.items() if k != "detections"},
                **{k: v for k, v in scored.items() if k != "missed"}})
  return {"keywords": keywords, "hits": hits, "recall": hits / keywords if keywords else None,
          "false_alarms": alarms, "hours": hours,
          "false_alarms_per_hour": alarms / hours if hours else math.nan, "streams": per}


def choose(spotter, validation, max_fa_per_hour: float = 2.0, points=None):
  """The operating point for `validation` streams `[(arrays, truth)]` (see module doc).

  Returns `(point, its validation score)`; when no point meets `max_fa_per_hour`, the one with the
  fewest false alarms per hour (then the best recall).
  """
  best_key, best = None, None
  for point in points or grid():
    s = score(spotter, validation, point)
    ok = s["false_alarms_per_hour"] <= max_fa_per_hour
    level = -math.inf if point.min_level_db is None else point.min_level_db
    key = ((1, s["recall"] or 0.0, -s["false_alarms_per_hour"], level) if ok else
           (0, -s["false_alarms_per_hour"], s["recall"] or 0.0, level))
    if best_key is None or key > best_key:
      best_key, best = key, (point, s)
  return best


def curve(spotter, keyword_streams, background_streams, points=None) -> list[dict]:
  """Recall on `keyword_streams` against false alarms per hour on `background_streams` for every
  operating point, sorted by false alarms: `[{point, recall, false_alarms_per_hour}]`."""
  rows = []
  for point in points or grid():
    k = score(spotter, keyword_streams, point)
    b = score(spotter, background_streams, point)
    rows.append({"point": dataclasses.asdict(point), "recall": k["recall"],
                 "false_alarms_per_hour": b["false_alarms_per_hour"]})
  return sorted(rows, key=lambda r: (r["false_alarms_per_hour"], -(r["recall"] or 0)))


def frontier(rows: list[dict]) -> list[dict]:
  """The points of `curve` no other point beats on both axes (the ROC-style curve)."""
  out, best = [], -1.0
  for r in rows:
    if (r["recall"] or 0.0) > best:
      out.append(r)
      best = r["recall"] or 0.0
  return out
