"""Reading, resampling and error handling of audio files (gcnet.audio.audio_io)."""

import logging
import os

import numpy as np
import pytest
import soundfile

from gcnet.audio import audio_io


def _tone(freq, rate, seconds, amplitude=0.5):
  t = np.arange(int(round(rate * seconds))) / rate
  return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(wave, rate):
  spectrum = np.abs(np.fft.rfft(wave * np.hanning(wave.size)))
  return np.argmax(spectrum) * rate / wave.size


@pytest.mark.parametrize("rate", [16000, 44100])
def test_resamples_to_8k_keeping_length_and_frequency(tmp_path, rate):
  path = str(tmp_path / f"3_alice_7_{rate}.wav")
  soundfile.write(path, _tone(440.0, rate, 0.5), rate, subtype="PCM_16")
  wave, out_rate = audio_io.read_audio(path, 8000)
  assert out_rate == 8000 and wave.dtype == np.float32
  assert wave.shape == (4000,)
  assert abs(_peak_hz(wave, 8000) - 440.0) <= 2.0
  # The tone's amplitude survives (away from the edges of the filter's support).
  np.testing.assert_allclose(np.abs(wave[500:-500]).max(), 0.5, rtol=0.02)


def test_resample_removes_content_above_the_new_nyquist():
  rate = 16000
  wave = _tone(440.0, rate, 1.0) + _tone(6000.0, rate, 1.0)   # 6 kHz > 4 kHz Nyquist of 8 kHz
  out = audio_io.resample(wave, rate, 8000)
  spectrum = np.abs(np.fft.rfft(out))
  assert abs(np.argmax(spectrum) * 8000 / out.size - 440.0) <= 1.0
  # No alias of 6 kHz at 8000 - 6000 = 2 kHz.
  assert spectrum[2000 * out.size // 8000] < 1e-2 * spectrum.max()


def test_same_rate_is_unchanged_and_stereo_is_averaged(tmp_path):
  path = str(tmp_path / "stereo.wav")
  left, right = _tone(300.0, 8000, 0.2), np.zeros(1600, np.float32)
  soundfile.write(path, np.stack([left, right], axis=1), 8000, subtype="FLOAT")
  wave, rate = audio_io.read_audio(path)
  assert rate == 8000
  np.testing.assert_allclose(wave, left / 2, atol=1e-6)


def test_corrupt_and_empty_files_raise_naming_the_file(tmp_path):
  bad = tmp_path / "3_alice_7.wav"
  bad.write_bytes(b"RIFF\x00\x00not really a wav file")
  with pytest.raises(audio_io.AudioReadError, match="3_alice_7.wav"):
    audio_io.read_audio(str(bad), 8000)
  empty = str(tmp_path / "4_bob_1.wav")
  soundfile.write(empty, np.zeros(0, np.float32), 8000)
  with pytest.raises(audio_io.AudioReadError, match="4_bob_1.wav.*no samples"):
    audio_io.read_audio(empty)
  with pytest.raises(audio_io.AudioReadError, match="missing.wav"):
    audio_io.read_audio(str(tmp_path / "missing.wav"))


def test_read_many_raises_or_skips_and_counts(tmp_path, caplog):
  good = [str(tmp_path / f"{d}_alice_0.wav") for d in range(3)]
  for p in good:
    soundfile.write(p, _tone(300.0, 8000, 0.1), 8000)
  bad = tmp_path / "9_alice_0.wav"
  bad.write_bytes(b"garbage")
  paths = good[:2] + [str(bad)] + good[2:]
  with pytest.raises(audio_io.AudioReadError, match="9_alice_0.wav"):
    audio_io.read_many(paths, 8000)
  with caplog.at_level(logging.WARNING):
    loaded, skipped = audio_io.read_many(paths, 8000, skip_corrupt=True)
  assert [p for p, _ in loaded] == good and skipped == [str(bad)]
  assert "Skipped 1 unreadable" in caplog.text and "9_alice_0.wav" in caplog.text


def test_int16_round_trip_matches_libsndfile(tmp_path):
  wave = np.array([-1.0, -0.5, 0.0, 0.25, 0.999], np.float32)
  path = str(tmp_path / "x.wav")
  soundfile.write(path, wave, 8000, subtype="PCM_16")
  read, _ = audio_io.read_audio(path)
  np.testing.assert_array_equal(audio_io.to_int16(read), soundfile.read(path, dtype="int16")[0])
  np.testing.assert_allclose(audio_io.from_int16(audio_io.to_int16(wave)), wave, atol=1 / 32768)


def test_list_audio_files_dedupes_symlinks(tmp_path):
  soundfile.write(str(tmp_path / "a.wav"), np.zeros(10, np.float32), 8000)
  os.symlink(tmp_path / "a.wav", tmp_path / "b.wav")
  (tmp_path / "notes.txt").write_text("x")
  assert [os.path.basename(p) for p in audio_io.list_audio_files(str(tmp_path))] == ["a.wav"]
