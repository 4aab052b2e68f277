"""Quality on speech-active and quiet parts: the level detector and the metrics on known signals."""

import numpy as np
import pytest

from gcnet.audio import activity
from gcnet.data.audio import codec_streams
from gcnet.audio import stream_quality

RATE = 8000


def _bursts():
  """1 s of -20 dBFS-ish tone, 1 s of silence, 1 s of tone, 1 s of silence."""
  t = np.arange(4 * RATE) / RATE
  on = (t < 1.0) | ((t >= 2.0) & (t < 3.0))
  return (0.1 * np.sin(2 * np.pi * 440 * t) * on).astype(np.float32), on


def test_active_mask_follows_the_level_with_its_hangover():
  wave, on = _bursts()
  mask = activity.active_mask(wave, RATE, hangover_seconds=0.0)
  np.testing.assert_array_equal(mask, on)
  spread = activity.active_mask(wave, RATE, hangover_seconds=0.1)
  assert activity.regions(spread) == [(0, 8800), (15200, 24800)]  # +-0.1 s around each burst


def test_regions_of_a_mask():
  assert activity.regions(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
  assert activity.regions(np.zeros(3, bool)) == []


def test_identical_reconstruction_scores_perfectly():
  wave, _ = _bursts()
  rng = np.random.RandomState(0)
  wave = wave + (1e-4 * rng.randn(wave.size)).astype(np.float32)
  q = stream_quality.stream_quality(wave, wave, RATE)
  assert q["speech_fraction"] == pytest.approx(0.575)  # 1.1 s + 1.2 s of 4 s
  assert q["speech"]["mel_distance"] == pytest.approx(0.0, abs=1e-6)
  assert q["quiet"]["mel_distance"] == pytest.approx(0.0, abs=1e-6)
  assert q["speech"]["stoi"] == pytest.approx(1.0, abs=1e-6)
  assert q["speech"]["seconds"] == pytest.approx(2.3)


def test_si_sdr_of_a_known_distortion_on_the_speech_part():
  wave, on = _bursts()
  rng = np.random.RandomState(1)
  noise = rng.randn(wave.size).astype(np.float32)
  noise -= noise.mean()
  noise *= on  # Distortion only under the tone, 20 dB below it.
  speech = wave[on]
  noise_speech = noise[on] - noise[on] @ speech / (speech @ speech) * speech  # orthogonal to it
  noise[on] = noise_speech / np.linalg.norm(noise_speech) * np.linalg.norm(speech) * 0.1
  q = stream_quality.part_quality(speech, speech + noise[on], RATE, with_pesq=False)
  assert q["si_sdr"] == pytest.approx(20.0, abs=0.05)


def test_mismatched_lengths_are_an_error():
  with pytest.raises(ValueError, match="aligned"):
    stream_quality.stream_quality(np.zeros(100), np.zeros(90), RATE)


def test_a_part_too_short_to_score_is_nan():
  q = stream_quality.part_quality(np.ones(100, np.float32), np.ones(100, np.float32), RATE)
  assert np.isnan(q["mel_distance"]) and np.isnan(q["stoi"])


def test_normalize_level_sets_the_rms_with_a_gain_cap():
  wave = (0.01 * np.sin(np.arange(4000) / 3)).astype(np.float32)  # about -43 dBFS
  out = codec_streams.normalize_level(wave, -20.0, 40.0)
  assert 20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2))) == pytest.approx(-20, abs=1e-4)
  capped = codec_streams.normalize_level(wave, -20.0, 10.0)
  np.testing.assert_allclose(capped, wave * 10 ** 0.5, rtol=1e-6)
  np.testing.assert_array_equal(codec_streams.normalize_level(np.zeros(8, np.float32), -20, 20),
                                np.zeros(8))
