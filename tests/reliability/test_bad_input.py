"""Bad input fails early with an error that names the problem and the fix.

Covered elsewhere, not repeated here: an empty Fashion-MNIST directory
(tests/data/test_fashion_mnist.py::test_missing_files_say_how_to_get_them), every kind of corrupt IDX
header (tests/data/test_idx.py), bad positive class lists in detail (tests/data/test_labels.py),
WAVs at other rates being resampled (tests/data/audio/test_fsdd_builder.py, tests/audio/test_audio_io.py)
and a workdir of another experiment through the Python API
(tests/train/test_training.py::test_workdir_of_another_experiment_is_refused).
"""

import gzip
import json
import os

import numpy as np
import pytest

from gcnet import data as data_lib
from gcnet.audio import audio_io
from gcnet.data.images import fashion_mnist
from gcnet.data.images import idx
from tests.reliability import procs
from tests.train.fixtures import tiny_config, train_run, write_tiny_fashion_mnist


def test_misspelt_config_key_is_a_one_line_error_with_a_suggestion(tmp_path):
  result = procs.run(procs.main_command(str(tmp_path / "run"), ("x", "y"), 2,
                                        "--config.train.learnin_rate=0.1"))
  assert result.returncode == 1
  assert "Traceback" not in result.stdout
  assert ("FATAL Flags parsing error: unknown config key in --config.train.learnin_rate: the config "
          "has no key 'learnin_rate'. Did you mean \"learning_rate\"") in result.stdout
  assert not os.path.exists(tmp_path / "run")   # failed before touching anything


def test_positive_classes_that_do_not_exist(tmp_path):
  config = tiny_config(str(tmp_path / "no_source"), str(tmp_path / "tfds"))
  with config.unlocked():
    config.data.positive_classes = (5, 7, 12)
  with pytest.raises(ValueError) as e:
    train_run(config, str(tmp_path / "run"), report=False)
  message = str(e.value)
  assert "unknown class ids [12]" in message and "9 Ankle boot" in message
  assert "--config.data.positive_classes=(5,7)" in message
  assert not os.path.exists(tmp_path / "tfds")   # checked before any preparation


def test_missing_data_directory(tmp_path):
  missing = str(tmp_path / "nowhere")
  config = tiny_config(missing, str(tmp_path / "tfds"))
  with pytest.raises(fashion_mnist.DatasetNotFoundError) as e:
    train_run(config, str(tmp_path / "run"), report=False)
  message = str(e.value)
  assert f"the directory {missing} does not exist" in message
  assert "--config.data.source_dir=DIR" in message and "apt-get install" in message


@pytest.mark.parametrize("damage", ["truncated", "not_idx"])
def test_corrupt_idx_file_names_the_file_and_the_fix(damage, tmp_path):
  source = write_tiny_fashion_mnist(str(tmp_path / "raw"), num_train=20, num_test=10)
  path = os.path.join(source, "train-images-idx3-ubyte.gz")
  raw = gzip.decompress(open(path, "rb").read())
  bad = raw[:len(raw) - 100] if damage == "truncated" else b"\x89PNG\r\n\x1a\n" + raw[8:]
  with open(path, "wb") as f:
    f.write(gzip.compress(bad))
  with pytest.raises(idx.IdxError) as e:
    data_lib.get_dataset(tiny_config(source, str(tmp_path / "tfds")).data)
  message = str(e.value)
  assert path in message
  assert ("truncated" if damage == "truncated" else "bad IDX magic number") in message
  assert "Fix: replace the file with the official one" in message


def _write_fsdd(directory, rate=8000):
  import soundfile
  os.makedirs(directory, exist_ok=True)
  t = np.arange(int(0.2 * rate)) / rate
  for speaker in ("ann", "bo"):
    for digit in range(10):
      for take in (0, 5, 6):
        soundfile.write(os.path.join(directory, f"{digit}_{speaker}_{take}.wav"),
                        0.3 * np.sin(2 * np.pi * (300 + 100 * digit) * t), rate, subtype="PCM_16")
  return directory


def _fsdd_config(source_dir, data_dir, **overrides):
  from experiments import audio_common
  cfg = audio_common.kws_data_config("fsdd", positive_classes=(1, 4, 7))
  cfg.update(dict(source_dir=source_dir, data_dir=data_dir, background_dirs=("",), negative_sources={},
                  validation_speakers=(), validation_fraction=1 / 3, **overrides))
  return cfg


def test_corrupt_wav_names_the_file_and_the_fix(tmp_path):
  source = _write_fsdd(str(tmp_path / "recordings"))
  with open(os.path.join(source, "3_bo_7.wav"), "wb") as f:
    f.write(b"RIFF\x24\x00\x00\x00WAVEfmt not audio at all")
  with pytest.raises(audio_io.AudioReadError) as e:
    data_lib.get_dataset(_fsdd_config(source, str(tmp_path / "tfds")))
  message = str(e.value)
  assert "3_bo_7.wav" in message and "--config.data.skip_corrupt=True" in message


@pytest.mark.parametrize("rate", [0, -8000, 10, 10_000_000])
def test_unusable_sample_rate_is_refused_before_preparing(rate, tmp_path):
  source = _write_fsdd(str(tmp_path / "recordings"))
  data_dir = tmp_path / "tfds"
  with pytest.raises(ValueError) as e:
    data_lib.get_dataset(_fsdd_config(source, str(data_dir), sample_rate=rate))
  message = str(e.value)
  assert f"config.data.sample_rate={rate!r} is not a usable audio sample rate" in message
  assert "--config.data.sample_rate=8000" in message
  assert not data_dir.exists()


def test_wav_at_another_rate_is_resampled_to_the_configured_rate(tmp_path):
  source = _write_fsdd(str(tmp_path / "recordings"), rate=22050)
  ds = data_lib.get_dataset(_fsdd_config(source, str(tmp_path / "tfds"), window_seconds=0.25))
  assert ds.sample_rate == 8000 and ds.input_shape == (2000,)
  assert ds.source("test")[0]["inputs"].shape == (2000,)


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_fsdd_directory_missing_or_empty(make, tmp_path):
  source = tmp_path / "recordings"
  if make == "empty":
    source.mkdir()
  with pytest.raises(FileNotFoundError) as e:
    data_lib.get_dataset(_fsdd_config(str(source), str(tmp_path / "tfds")))
  message = str(e.value)
  assert str(source) in message and "{digit}_{speaker}_{index}.wav" in message
  assert "--config.data.source_dir" in message


def test_workdir_of_another_experiment_is_refused_by_the_command(tiny_data, tmp_path):
  workdir = tmp_path / "run"
  workdir.mkdir()
  other = json.loads(tiny_config(*tiny_data, gated=False).to_json_best_effort())
  (workdir / "config.json").write_text(json.dumps(other))
  result = procs.run(procs.main_command(str(workdir), tiny_data, 2))
  assert result.returncode == 1
  assert ("holds a run with a different 'experiment' ('fashion_mnist_baseline', now "
          "'fashion_mnist_gc'). Use a new --workdir, or delete the old run") in result.stdout
  assert not (workdir / "checkpoints").exists()
