"""The level stage and event rule are chosen on validation streams, and counted in the compute."""

import dataclasses

import numpy as np

from gcnet.runtime.keywords import event_rule as er

RATE, HOP, WIN = 100, 25, 100          # 1 s windows every 0.25 s at a toy rate


@dataclasses.dataclass
class _Spotter:
  """What `event_rule` needs of a keyword spotter: labels 0 ("one"), 1 (background); no gate."""
  class_names: tuple = ("one", "background")
  num_gates: int = 0
  background: int = 1

  def costs(self):
    return {"total": {"flops_xla": 1000.0}, "num_gates": 0}


def _arrays(labels, scores, levels, seconds):
  n = len(labels)
  return {"labels": np.array(labels), "scores": np.array(scores, np.float32),
          "gates": np.ones(n, np.float32), "stopped_at": np.zeros(n, np.int32),
          "levels_db": np.array(levels, np.float64), "hop": HOP, "window_len": WIN,
          "sample_rate": RATE, "duration_s": seconds}


def _streams():
  # A keyword spoken at 1.0-1.5 s: three confident windows; a quiet blip and a loud noise burst
  # each make one window of "one" in the background recording.
  speech = _arrays([1, 1, 0, 0, 0, 1, 1, 1], [0.9, 0.9, 0.97, 0.99, 0.95, 0.9, 0.9, 0.9],
                   [-80, -80, -30, -30, -30, -80, -80, -80], 3.0)
  truth = {"duration_s": 3.0, "events": [{"start_s": 1.0, "end_s": 1.5, "keyword": True,
                                          "label_name": "one"}]}
  noise = _arrays([1, 0, 1, 1, 0, 1], [0.9, 0.6, 0.9, 0.9, 0.85, 0.9],
                  [-80, -90, -80, -80, -40, -80], 3600.0)
  return (speech, truth), (noise, {"duration_s": 3600.0, "events": []})


def test_level_stage_and_rule_drop_the_alarms_and_cost_one_mean_of_squares():
  spotter, (speech, truth), (noise, empty) = _Spotter(), *_streams()
  raw = er.score(spotter, [(noise, empty)], er.OperatingPoint(None, 1, 0.0))
  assert raw["false_alarms"] == 2 and raw["false_alarms_per_hour"] == 2.0
  level = er.apply(spotter, noise, er.OperatingPoint(-60.0, 1, 0.0))
  assert len(level["detections"]) == 1 and level["level_stopped_fraction"] == 5 / 6
  # Only the window above -60 dBFS reaches the network: 2 * WIN FLOPs for the level on all.
  assert np.isclose(level["flops_per_window"], 2 * WIN + 1000.0 / 6)
  assert er.apply(spotter, noise, er.OperatingPoint(-60.0, 1, 0.9))["detections"] == []


def test_choose_keeps_recall_within_the_alarm_budget():
  spotter, speech, noise = _Spotter(), *_streams()
  point, val = er.choose(spotter, [speech, noise], max_fa_per_hour=0.5)
  assert val["recall"] == 1.0 and val["false_alarms"] == 0
  assert point.min_score <= 0.99 and (point.min_level_db is not None or point.min_score > 0.85)
  # No point meets an impossible budget with recall 1 here unless alarms are zero; a budget of
  # zero still returns the point with the fewest alarms.
  strict, s = er.choose(spotter, [speech, noise], max_fa_per_hour=0.0)
  assert s["false_alarms"] == 0 and s["recall"] == 1.0


def test_curve_and_frontier_are_monotone():
  spotter, speech, noise = _Spotter(), *_streams()
  rows = er.curve(spotter, [speech], [noise])
  assert len(rows) == len(er.grid())
  front = er.frontier(rows)
  fas = [r["false_alarms_per_hour"] for r in front]
  recalls = [r["recall"] for r in front]
  assert fas == sorted(fas) and recalls == sorted(recalls) and recalls[-1] == 1.0
