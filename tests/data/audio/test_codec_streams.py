"""Codec data: crop sources, FSDD always-on streams (speaker-held-out), the generic wav_dir dataset."""

import os

import ml_collections as mlc
import numpy as np
import pytest
import soundfile

from tests.data.audio.codec_data_testutil import tone, write_fsdd_like
from gcnet import data as data_lib
from gcnet.data.audio import codec_streams
from gcnet.data.audio import wav_dir


def test_crop_source_tiles_and_jitters_deterministically():
  stream = np.arange(1000, dtype=np.float32)
  ev = codec_streams.CropSource(stream, 300, 300)
  assert len(ev) == 3 and ev[2]["inputs"][0] == 600 and ev[2]["inputs"].shape == (300,)
  with pytest.raises(IndexError):
    ev[3]  # pylint: disable=pointless-statement
  train = codec_streams.CropSource(stream, 300, 150, jitter=True)
  assert len(train) == 5
  a = train.augmented_batch([0, 1, 4], [0, 0, 0], seed=3)
  b = train.augmented_batch([0, 1, 4], [0, 0, 0], seed=3)
  c = train.augmented_batch([0, 1, 4], [1, 1, 1], seed=3)
  starts = [int(x["inputs"][0]) for x in a]
  assert starts == [int(x["inputs"][0]) for x in b]             # a pure function of its inputs
  assert starts != [int(x["inputs"][0]) for x in c]             # another epoch, other offsets
  assert 0 <= starts[0] < 150 and 150 <= starts[1] < 300
  assert 600 <= starts[2] <= 700                                # the last crop stays inside
  assert all(x["inputs"].shape == (300,) and x["inputs"].dtype == np.float32 for x in a)


def _fsdd_config(source_dir):
  from experiments import codec_dsl  # pylint: disable=g-import-not-at-top
  data = codec_dsl.codec_data_config()
  data.source_dir = source_dir
  data.test_speakers = ("carol",)
  data.validation_speakers = ("dave",)
  data.background_dirs = ("",)
  data.crop_seconds = 0.25
  data.eval_crop_seconds = 0.5
  return data


def test_fsdd_streams_hold_out_speakers_with_pauses(tmp_path):
  totals = write_fsdd_like(str(tmp_path))
  data = _fsdd_config(str(tmp_path))
  ds = data_lib.get_dataset(data)
  assert ds.num_classes == 0 and ds.sample_rate == 8000 and ds.input_shape == (2000,)
  # Each split holds its speakers' clips plus pauses (>= 0.2 s each, one more than the clips).
  for split, speakers, clips in (("test", ("carol",), 4), ("validation", ("dave",), 4),
                                 ("train", ("alice", "bob"), 8)):
    speech = sum(totals[s] for s in speakers)
    assert ds.seconds(split) >= speech + 0.2 * (clips + 1) - 1e-3, split
    assert ds.seconds(split) <= speech + 4.0 * (clips + 1)
  # The test stream holds carol's pitch (250 Hz) and not alice's (150 Hz).
  x = ds.streams["test"]
  spec = np.abs(np.fft.rfft(x))
  freqs = np.fft.rfftfreq(x.size, 1 / 8000)
  band = lambda f: spec[(freqs > f - 5) & (freqs < f + 5)].mean()
  assert band(250) > 10 * band(150)
  # Background between clips: quiet (well below the speech) but not exact zeros.
  level = 20 * np.log10(np.sqrt(np.mean(x[:800] ** 2)) + 1e-12)
  assert -90 < level < -35
  batch = next(data_lib.train_iterator(ds, "train", global_batch_size=4, seed=0))
  assert set(batch) == {"inputs"} and batch["inputs"].shape == (4, 2000)
  ev = next(data_lib.eval_batches(ds, "test", batch_size=4))
  assert ev["inputs"].shape == (4, 4000) and ev["mask"].dtype == bool


def test_fsdd_streams_rejects_bad_speakers(tmp_path):
  write_fsdd_like(str(tmp_path))
  data = _fsdd_config(str(tmp_path))
  data.test_speakers = ("zoe",)
  with pytest.raises(ValueError, match="held-out speakers"):
    data_lib.get_dataset(data)


def _write_tree(root, rate=16000):
  """3 folders ("speakers") x 2 files at `rate`, 0.5 s each."""
  for i, folder in enumerate(("spk_a", "spk_b", "spk_c")):
    os.makedirs(root / folder / "chapter")
    for j in range(2):
      soundfile.write(str(root / folder / "chapter" / f"utt{j}.wav"),
                      tone(0.5, rate, 200 + 30 * i + 7 * j), rate)


def _wav_config(root, **overrides):
  data = mlc.ConfigDict(dict(name="wav_dir", source_dir=str(root), sample_rate=8000,
                             crop_seconds=0.1, eval_crop_seconds=0.2, split_by="folder",
                             test_fraction=0.2, validation_fraction=0.2))
  data.update(overrides)
  return data


def test_wav_dir_resamples_and_holds_out_folders(tmp_path):
  _write_tree(tmp_path)
  ds = data_lib.get_dataset(_wav_config(tmp_path))
  # One folder (2 files x 0.5 s, resampled 16 -> 8 kHz) in each of test and validation.
  assert ds.seconds("test") == pytest.approx(1.0) and ds.seconds("validation") == pytest.approx(1.0)
  assert ds.seconds("train") == pytest.approx(1.0)
  assert ds.source("train")[0]["inputs"].shape == (800,)
  assert len(ds.source("test")) == 5
  # Splits are disjoint: the streams differ.
  assert not np.allclose(ds.streams["test"], ds.streams["train"])
  # By file: 6 keys -> 1 test, 1 validation, 4 train files.
  by_file = data_lib.get_dataset(_wav_config(tmp_path, split_by="file"))
  assert by_file.seconds("train") == pytest.approx(2.0)


def test_wav_dir_tiny_directory_and_errors(tmp_path):
  soundfile.write(str(tmp_path / "one.wav"), tone(0.4, 22050, 300), 22050)
  ds = data_lib.get_dataset(_wav_config(tmp_path, split_by="file"))
  assert all(ds.seconds(s) == pytest.approx(0.4, abs=1e-3) for s in codec_streams.SPLITS)
  with pytest.raises(ValueError, match="source_dir"):
    data_lib.get_dataset(_wav_config(""))
  with pytest.raises(FileNotFoundError):
    data_lib.get_dataset(_wav_config(tmp_path / "missing"))
  with pytest.raises(ValueError, match="less than one crop"):
    data_lib.get_dataset(_wav_config(tmp_path, split_by="file", crop_seconds=1.0))
  assert wav_dir.split_key(str(tmp_path / "a" / "b.wav"), str(tmp_path), "folder") == "a"
