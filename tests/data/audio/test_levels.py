"""Silence windows at every level, and per-speaker level normalisation."""

import numpy as np

from gcnet.audio import audio_io
from gcnet.data.audio import background as bg
from gcnet.data.audio import fsdd


def test_silence_windows_span_their_level_range_down_to_digital_zero():
  sampler = bg.BackgroundSampler(weights={"silence": 1.0}, silence_level_db=(-140.0, -40.0))
  levels = [bg.rms_db(sampler.window(np.random.default_rng(i), 800)[0]) for i in range(200)]
  finite = [x for x in levels if np.isfinite(x)]
  assert 0.1 < 1 - len(finite) / len(levels) < 0.3       # levels <= -120: exact zeros
  assert min(finite) < -110 and -48 < max(finite) <= -39
  fixed = bg.BackgroundSampler(weights={"silence": 1.0})
  assert abs(bg.rms_db(fixed.window(np.random.default_rng(0), 8000)[0]) + 70) < 0.5


def test_speaker_gains_bring_each_speaker_median_to_the_level():
  rng = np.random.default_rng(0)
  audio, speakers = [], []
  for speaker, level in (("loud", -15.0), ("quiet", -45.0)):
    for k in range(5):
      audio.append(audio_io.to_int16(bg.set_level_db(rng.standard_normal(800), level + k)))
      speakers.append(speaker)
  objects = np.empty(len(audio), object)
  objects[:] = audio
  clips = {"audio": objects, "speaker": np.array(speakers)}
  gains = fsdd.speaker_gains(clips, -26.0)
  for speaker in ("loud", "quiet"):
    rows = np.flatnonzero(clips["speaker"] == speaker)
    levels = [bg.rms_db(audio_io.from_int16(clips["audio"][i]) * gains[i]) for i in rows]
    assert abs(np.median(levels) + 26.0) < 0.1
    assert len(set(np.round(gains[rows], 6))) == 1            # one gain per speaker
