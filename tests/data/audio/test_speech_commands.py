"""The Speech Commands dataset reader on stub sources (the real data cannot be built here)."""

import io

import numpy as np
import pytest
import soundfile

from experiments import speech_commands_kws_gc
from gcnet.data.audio import speech_commands


def _wav_bytes(wave, rate):
  buf = io.BytesIO()
  soundfile.write(buf, wave, rate, format="WAV", subtype="PCM_16")
  return buf.getvalue()


def test_decode_audio_from_bytes_or_int16_resamples():
  wave = (0.25 * np.sin(2 * np.pi * 500 * np.arange(16000) / 16000)).astype(np.float32)
  from_bytes = speech_commands.decode_audio(_wav_bytes(wave, 16000), 8000)
  from_int16 = speech_commands.decode_audio(np.round(wave * 32768).astype(np.int16), 8000)
  assert from_bytes.shape == from_int16.shape == (8000,)
  np.testing.assert_allclose(from_bytes, from_int16, atol=1e-4)
  assert np.argmax(np.abs(np.fft.rfft(from_bytes))) == 500


def test_build_maps_words_to_labels():
  config = speech_commands_kws_gc.get_config("runlocal")
  with config.unlocked():
    config.data.background_dirs = ("",)
    config.data.negative_sources = {}
  labels = {"train": [9, 3, 7, 0, 10, 11], "validation": [9, 1], "test": [3, 11, 10]}

  def open_split(split, data_dir):
    assert data_dir is None
    return [{"audio": _wav_bytes(np.full(8000, 0.01 * (w + 1), np.float32), 16000), "label": w}
            for w in labels[split]]

  ds = speech_commands.build(config.data, open_split=open_split)
  assert ds.class_names == ("yes", "no", "stop", "background")
  assert ds.input_shape == (16000,)
  train = ds.source("train")
  assert train.num_clips == 6 and len(train) == 6 + 1          # background_fraction 0.1
  assert [int(train[i]["label"]) for i in range(7)] == [0, 1, 2, 3, 3, 3, 3]
  assert [int(train[i]["source_label"]) for i in range(7)] == [9, 3, 7, 0, 10, 11, 12]
  window = train[0]["inputs"]
  assert window.shape == (16000,) and abs(window[8000] - 0.1) < 1e-3   # centred 0.5 s clip


def test_missing_dataset_is_a_clear_error(tmp_path):
  with pytest.raises(FileNotFoundError, match="array_record"):
    speech_commands.open_tfds_split("train", str(tmp_path))
