"""The FSDD TFDS builder and the "fsdd" dataset, end to end on generated WAV files."""

import logging

import numpy as np
import pytest
import soundfile

from experiments import audio_common
from gcnet import data
from gcnet.audio import audio_io
from gcnet.data.audio import fsdd

SPEAKERS = {"alice": 8000, "bob": 16000, "carol": 44100}   # each speaker records at its own rate
TAKES = (0, 1, 5, 6, 7)                                     # 0-1: official test; 5-7: train


def _tone_hz(digit):
  return 300.0 + 150.0 * digit


@pytest.fixture
def recordings(tmp_path):
  """150 FSDD-style clips: a tone per digit (so the audio says which digit it is)."""
  directory = tmp_path / "recordings"
  directory.mkdir()
  for speaker, rate in SPEAKERS.items():
    for digit in range(10):
      for take in TAKES:
        seconds = 0.2 + 0.05 * take
        t = np.arange(int(rate * seconds)) / rate
        wave = 0.3 * np.sin(2 * np.pi * _tone_hz(digit) * t)
        soundfile.write(str(directory / f"{digit}_{speaker}_{take}.wav"), wave, rate,
                        subtype="PCM_16")
  return directory


def _config(recordings, tmp_path, **overrides):
  cfg = audio_common.kws_data_config("fsdd", positive_classes=(1, 4, 7))
  cfg.source_dir = str(recordings)
  cfg.data_dir = str(tmp_path / "tfds")
  cfg.background_dirs = ("",)
  cfg.negative_sources = {}
  cfg.validation_fraction = 1 / 3
  cfg.update(overrides)
  return cfg


def test_builder_stores_every_clip_resampled(recordings, tmp_path):
  clips = fsdd.load_clips(str(recordings), str(tmp_path / "tfds"), 8000)
  assert len(clips["digit"]) == 150
  assert sorted(set(clips["speaker"])) == sorted(SPEAKERS)
  assert np.bincount(clips["digit"]).tolist() == [15] * 10
  for row in (0, 77, 149):   # one clip of each speaker: 8 kHz length and the digit's tone
    wave = audio_io.from_int16(clips["audio"][row])
    assert abs(wave.size - 8000 * (0.2 + 0.05 * clips["index"][row])) <= 1
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(wave.size)))
    assert abs(np.argmax(spectrum) * 8000 / wave.size - _tone_hz(clips["digit"][row])) < 20


def test_official_split_counts_and_labels(recordings, tmp_path):
  ds = data.get_dataset(_config(recordings, tmp_path))
  assert ds.name == "fsdd" and ds.num_classes == 4 and ds.input_shape == (8000,)
  assert ds.class_names == ("one", "four", "seven", "background")
  clips = {"train": 60, "validation": 30, "test": 60}
  for split, n in clips.items():
    source = ds.source(split)
    n_bg = int(np.floor(n * 0.25 + 0.5))       # background_fraction 0.2 of the split
    assert (source.num_clips, len(source)) == (n, n + n_bg)
    labels = np.array([source[i]["label"] for i in range(len(source))])
    source_labels = np.array([source[i]["source_label"] for i in range(len(source))])
    assert np.bincount(source_labels, minlength=11).tolist() == [n // 10] * 10 + [n_bg]
    expected = np.select([source_labels == 1, source_labels == 4, source_labels == 7], [0, 1, 2], 3)
    np.testing.assert_array_equal(labels, expected)
  # The audio of each window matches its source label: labels travel with the right clip.
  test = ds.source("test")
  for i in range(0, test.num_clips, 7):
    ex = test[i]
    spectrum = np.abs(np.fft.rfft(ex["inputs"]))
    assert abs(np.argmax(spectrum) * 8000 / 8000 - _tone_hz(int(ex["source_label"]))) < 20
    assert ex["inputs"].dtype == np.float32 and ex["inputs"].shape == (8000,)


def test_speaker_held_out_splits_are_disjoint(recordings, tmp_path):
  cfg = _config(recordings, tmp_path, split="speaker_held_out", test_speakers=("alice",),
                validation_speakers=("bob",))
  clips = fsdd.load_clips(cfg.source_dir, cfg.data_dir)
  rows = fsdd.split_clips(clips, cfg)
  speakers = {s: set(clips["speaker"][r]) for s, r in rows.items()}
  assert speakers == {"train": {"carol"}, "validation": {"bob"}, "test": {"alice"}}
  assert sum(len(r) for r in rows.values()) == 150
  ds = data.get_dataset(cfg)
  assert [ds.source(s).num_clips for s in ("train", "validation", "test")] == [50, 50, 50]
  # No validation speakers: validation is carved from the training speakers, disjoint from train.
  cfg.validation_speakers = ()
  rows = fsdd.split_clips(clips, cfg)
  assert set(clips["speaker"][rows["validation"]]) == {"bob", "carol"}
  assert not set(rows["train"]) & set(rows["validation"])
  assert len(rows["validation"]) == 2 * 10 * 2            # 1/3 of each (speaker, digit) group
  for bad in [dict(test_speakers=("zoe",)), dict(validation_speakers=("alice",)),
              dict(test_speakers=("alice", "bob"), validation_speakers=("carol",))]:
    with pytest.raises(ValueError, match="speaker"):
      fsdd.split_clips(clips, _config(recordings, tmp_path, split="speaker_held_out", **bad))
  with pytest.raises(ValueError, match="split"):
    fsdd.split_clips(clips, _config(recordings, tmp_path, split="random"))


def test_corrupt_file_raises_or_is_skipped_and_counted(recordings, tmp_path, caplog):
  (recordings / "5_dave_3.wav").write_bytes(b"RIFF....WAVEfmt garbage")
  with pytest.raises(audio_io.AudioReadError, match="5_dave_3.wav"):
    data.get_dataset(_config(recordings, tmp_path))
  with caplog.at_level(logging.WARNING):
    ds = data.get_dataset(_config(recordings, tmp_path, skip_corrupt=True))
  assert "Skipped 1 unreadable FSDD clips of 151" in caplog.text
  assert sum(ds.source(s).num_clips for s in ("train", "validation", "test")) == 150
  # The prepared dataset remembers the skipped file: without skip_corrupt it is still an error.
  with pytest.raises(audio_io.AudioReadError, match="5_dave_3.wav"):
    data.get_dataset(_config(recordings, tmp_path))


def test_misnamed_file_and_changed_source_are_errors(recordings, tmp_path):
  (recordings / "hello.wav").write_bytes(b"")
  with pytest.raises(ValueError, match="hello.wav"):
    fsdd.load_clips(str(recordings), str(tmp_path / "a"))
  (recordings / "hello.wav").unlink()
  fsdd.load_clips(str(recordings), str(tmp_path / "b"))
  (recordings / "0_alice_0.wav").unlink()
  with pytest.raises(ValueError, match="other files"):
    fsdd.load_clips(str(recordings), str(tmp_path / "b"))


def test_evaluation_is_deterministic_and_training_is_augmented(recordings, tmp_path):
  ds = data.get_dataset(_config(recordings, tmp_path))
  again = data.get_dataset(_config(recordings, tmp_path))
  for split in ("validation", "test"):
    a, b = ds.source(split), again.source(split)
    for i in (0, a.num_clips - 1, len(a) - 1):
      np.testing.assert_array_equal(a[i]["inputs"], b[i]["inputs"])
      np.testing.assert_array_equal(a.augmented(i, 1, 0)["inputs"], a[i]["inputs"])  # no aug
  train = ds.source("train")
  x = train.augmented(3, epoch=1, seed=0)
  np.testing.assert_array_equal(x["inputs"], again.source("train").augmented(3, 1, 0)["inputs"])
  assert not np.array_equal(x["inputs"], train[3]["inputs"])
  assert x["label"] == train[3]["label"]


def test_a_16k_dataset_resamples_the_clips(recordings, tmp_path):
  ds = data.get_dataset(_config(recordings, tmp_path, sample_rate=16000, window_seconds=0.5))
  ex = ds.source("test")[0]
  assert ds.input_shape == (8000,) and ex["inputs"].shape == (8000,)
  spectrum = np.abs(np.fft.rfft(ex["inputs"]))
  assert abs(np.argmax(spectrum) * 16000 / 8000 - _tone_hz(int(ex["source_label"]))) < 20
