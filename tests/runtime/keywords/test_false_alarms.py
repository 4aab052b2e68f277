"""False alarms, latency and per-source counts on a constructed stream with known events."""

import numpy as np
import pytest

from gcnet.runtime.keywords import make_background
from gcnet.runtime.keywords import stream_truth
from gcnet.runtime.keywords.stream import merge_events


def _truth():
  # 2 hours: a keyword "one" at 10-10.5 s, another word at 20-20.5 s, and two source segments.
  return {"duration_s": 7200.0,
          "events": [{"start_s": 10.0, "end_s": 10.5, "keyword": True, "label_name": "one"},
                     {"start_s": 20.0, "end_s": 20.5, "keyword": False, "label_name": "background"}],
          "segments": [{"start_s": 100.0, "end_s": 1900.0, "source": "music", "file": "a.ogg"},
                       {"start_s": 2000.0, "end_s": 5600.0, "source": "speech", "file": "b.wav"}]}


def _det(start, end, label="one", detected=None):
  return {"start_s": start, "end_s": end, "peak_s": (start + end) / 2, "label_name": label,
          "detected_s": end if detected is None else detected}


def test_counts_hits_duplicates_and_false_alarms_per_hour_and_source():
  detections = [
      _det(9.8, 10.9, detected=10.75),           # hits the keyword, 0.25 s after its end
      _det(10.2, 11.0),                          # a duplicate of it
      _det(19.9, 20.8),                          # a false alarm on the other word
      _det(500.0, 501.0, "four"),                # on music
      _det(600.0, 601.0),                        # on music
      _det(3000.0, 3001.0),                      # on speech
      _det(1950.0, 1951.0),                      # between segments
  ]
  out = stream_truth.score_detections(detections, _truth())
  assert (out["keywords"], out["hits"], out["misses"], out["duplicates"]) == (1, 1, 0, 1)
  assert out["false_alarms"] == 5
  assert (out["false_alarms_on_words"], out["false_alarms_on_background"]) == (1, 4)
  assert out["false_alarms_per_hour"] == pytest.approx(2.5)
  assert out["latency_s"] == {"mean": pytest.approx(0.25), "median": pytest.approx(0.25),
                              "max": pytest.approx(0.25)}
  per = out["per_source"]
  assert per["music"]["false_alarms"] == 2 and per["music"]["hours"] == pytest.approx(0.5)
  assert per["music"]["false_alarms_per_hour"] == pytest.approx(4.0)
  assert per["speech"]["false_alarms"] == 1 and per["speech"]["false_alarms_per_hour"] == 1.0
  assert per["gaps"]["false_alarms"] == 2     # the word at 20 s and the one at 1950 s
  assert per["gaps"]["hours"] == pytest.approx(0.5)          # 2 h minus 1.5 h of segments
  assert per["gaps"]["false_alarms_per_hour"] == pytest.approx(4.0)


def test_a_miss_has_no_latency_and_no_segments_no_per_source():
  truth = _truth()
  del truth["segments"]
  out = stream_truth.score_detections([_det(30.0, 31.0)], truth)
  assert out["misses"] == 1 and out["latency_s"] is None and "per_source" not in out
  assert out["false_alarms"] == 1 and out["false_alarms_per_hour"] == pytest.approx(0.5)


def test_merged_events_report_when_the_first_window_completed():
  labels = np.array([3, 0, 0, 3, 1, 3])
  events = merge_events(labels, np.ones(6), np.ones(6), background=3, hop=2000, window_len=8000,
                        sample_rate=8000, class_names=["one", "four", "seven", "background"])
  assert [(e["label_name"], e["windows"]) for e in events] == [("one", 2), ("four", 1)]
  assert events[0]["detected_s"] == pytest.approx(1.25)    # window 1: 0.25 s + 1 s
  assert events[1]["detected_s"] == pytest.approx(2.0)


def test_background_recording_is_seeded_long_enough_and_labelled():
  sources = {"a": [("x.wav", np.full(4000, 0.1, np.float32))],
             "b": [("y.wav", np.full(12000, 0.2, np.float32)), ("z.wav", np.ones(100, np.float32))]}
  wave, truth = make_background.make_background(sources, np.random.default_rng(0), minutes=0.5,
                                                sample_rate=8000, segment_s=(1.0, 2.0))
  again, _ = make_background.make_background(sources, np.random.default_rng(0), minutes=0.5,
                                             sample_rate=8000, segment_s=(1.0, 2.0))
  np.testing.assert_array_equal(wave, again)
  assert wave.shape[0] >= 30 * 8000 and truth["duration_s"] == wave.shape[0] / 8000
  assert truth["events"] == [] and {s["source"] for s in truth["segments"]} == {"a", "b"}
  assert all(s["end_s"] - s["start_s"] <= 2.0 + 1e-9 for s in truth["segments"])
  # Short files are strung together: source "a" (0.5 s files) fills segments of 1-2 s.
  a_time, b_time = truth["sources"]["a"], truth["sources"]["b"]
  assert 0.5 < a_time / b_time < 2.0
  assert sum(truth["sources"].values()) == pytest.approx(
      sum(s["end_s"] - s["start_s"] for s in truth["segments"]))
  with pytest.raises(ValueError, match="at least one file"):
    make_background.make_background({"a": []}, np.random.default_rng(0), minutes=1,
                                    sample_rate=8000)


def test_the_event_rule_drops_short_or_unsure_runs():
  labels = np.array([0, 3, 0, 0, 3, 1, 1, 1])
  scores = np.array([0.99, 1, 0.6, 0.7, 1, 0.95, 0.5, 0.5])
  names = ["one", "four", "seven", "background"]
  kw = dict(background=3, hop=2000, window_len=8000, sample_rate=8000, class_names=names)
  assert len(merge_events(labels, scores, np.ones(8), **kw)) == 3
  two = merge_events(labels, scores, np.ones(8), min_windows=2, **kw)
  assert [(e["label_name"], e["windows"]) for e in two] == [("one", 2), ("four", 3)]
  sure = merge_events(labels, scores, np.ones(8), min_windows=2, min_score=0.9, **kw)
  assert [e["label_name"] for e in sure] == ["four"]
