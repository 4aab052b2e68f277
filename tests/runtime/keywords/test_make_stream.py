"""The generated always-on stream and the scoring of detections against its ground truth."""

import numpy as np
import pytest

from gcnet.data.audio import background as bg
from gcnet.runtime.keywords import make_stream as ms
from gcnet.runtime.keywords import stream_truth
from tests.runtime.keywords import predict_fixtures as fx


@pytest.fixture
def recordings(tmp_path):
  return fx.write_recordings(str(tmp_path / "rec"))


def test_test_clips_follow_the_split(recordings):
  official = ms.test_clips(recordings, "official", set())
  assert official and all(int(p.rsplit("_", 1)[1][:-4]) < 5 for p, _ in official)
  held = ms.test_clips(recordings, "speaker_held_out", {"bob"})
  assert len(held) == 10 * len(fx.TAKES) and all("_bob_" in p for p, _ in held)


def test_truth_marks_where_each_word_is(recordings):
  clips = ms.test_clips(recordings, "official", set())
  rng = np.random.default_rng(0)
  wave, truth = ms.make_stream(clips, (1, 4, 7), rng, num_clips=8, keyword_fraction=0.5,
                               min_gap=1.0, max_gap=1.5, sample_rate=8000)
  assert truth["duration_s"] == pytest.approx(wave.shape[0] / 8000)
  starts = [e["start_s"] for e in truth["events"]]
  assert starts == sorted(starts) and len(starts) == 8
  for e in truth["events"]:
    assert e["keyword"] == (e["digit"] in (1, 4, 7))
    assert e["label_name"] == (e["word"] if e["keyword"] else "background")
    seg = wave[int(e["start_s"] * 8000) + 10:int(e["end_s"] * 8000) - 10]
    spectrum = np.abs(np.fft.rfft(seg))
    assert abs(np.argmax(spectrum) * 8000 / seg.size - fx.tone_hz(e["digit"])) < 20
    assert bg.rms_db(seg) > -20.0   # the word, far above the bed and background


def test_score_detections_counts_hits_misses_duplicates_and_false_alarms():
  truth = {"duration_s": 60.0, "events": [
      {"start_s": 1.0, "end_s": 1.5, "keyword": True, "label_name": "one"},
      {"start_s": 4.0, "end_s": 4.4, "keyword": True, "label_name": "four"},
      {"start_s": 8.0, "end_s": 8.5, "keyword": False, "label_name": "background"}]}
  dets = [{"start_s": 0.5, "end_s": 2.0, "label_name": "one"},
          {"start_s": 1.2, "end_s": 2.2, "label_name": "one"},      # duplicate
          {"start_s": 3.8, "end_s": 4.8, "label_name": "seven"},    # wrong keyword on a word
          {"start_s": 7.9, "end_s": 8.9, "label_name": "one"},      # on a non-keyword
          {"start_s": 20.0, "end_s": 21.0, "label_name": "four"}]   # on background
  s = stream_truth.score_detections(dets, truth)
  assert (s["hits"], s["misses"], s["duplicates"]) == (1, 1, 1)
  assert (s["false_alarms_on_words"], s["false_alarms_on_background"]) == (2, 1)
  assert s["false_alarms_per_minute"] == 3.0 and s["missed"][0]["label_name"] == "four"
