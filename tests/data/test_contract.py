"""Every dataset builder of `gcnet.data.DATASETS` returns a `gcnet.data.contract.Dataset` whose
sources are `contract.Source`s, on tiny generated data; the pipeline reads sources only through the
contract (no `getattr` probing)."""

import ast
import contextlib
import pathlib

import ml_collections as mlc
import numpy as np
import pytest
import soundfile
import tensorflow_datasets as tfds

from gcnet import data
from gcnet.data import contract
from tests.data.audio.codec_data_testutil import tone, write_fsdd_like
from tests.data.fixtures import data_config, fix_mock_batched_reads
from tests.train.fixtures import write_tiny_fashion_mnist


def _fashion_mnist(tmp):
  source = write_tiny_fashion_mnist(str(tmp / "raw"), num_train=40, num_test=20)
  return data.get_dataset(data_config(name="fashion_mnist", source_dir=source,
                                      data_dir=str(tmp / "tfds")))


def _mock_tfds(name, positive_classes):
  def build(tmp):
    del tmp
    ds = data.get_dataset(data_config(name=name, positive_classes=positive_classes))
    fix_mock_batched_reads(ds)
    return ds
  return build


def _fsdd(tmp):
  from experiments import audio_common  # pylint: disable=g-import-not-at-top
  write_fsdd_like(str(tmp / "fsdd"), digits=(0, 1, 4), takes=6)  # takes 5+: official train
  cfg = audio_common.kws_data_config("fsdd", positive_classes=(1, 4))
  cfg.update(dict(source_dir=str(tmp / "fsdd"), data_dir=str(tmp / "tfds"), background_dirs=("",),
                  negative_sources={}, window_seconds=0.5, split="speaker_held_out",
                  test_speakers=("carol",), validation_speakers=("dave",)))
  cfg.augment.enabled = False
  return data.get_dataset(cfg)


def _speech_commands(tmp):
  """The builder `DATASETS["speech_commands"]` names, on a stub of its TFDS splits."""
  del tmp
  from experiments import speech_commands_kws_gc  # pylint: disable=g-import-not-at-top
  from gcnet.data.audio import speech_commands  # pylint: disable=g-import-not-at-top
  config = speech_commands_kws_gc.get_config("runlocal")
  with config.unlocked():
    config.data.background_dirs = ("",)
    config.data.negative_sources = {}
  clip = np.round(0.1 * 32767 * np.sin(np.arange(8000) / 5)).astype(np.int16)
  stub = lambda split, data_dir: [{"audio": clip, "label": w} for w in (9, 3, 0, 10)]
  assert data.DATASETS["speech_commands"].endswith(":build")
  return speech_commands.build(config.data, open_split=stub)


def _fsdd_streams(tmp):
  from experiments import codec_dsl  # pylint: disable=g-import-not-at-top
  write_fsdd_like(str(tmp / "fsdd"))
  cfg = codec_dsl.codec_data_config()
  cfg.update(dict(source_dir=str(tmp / "fsdd"), test_speakers=("carol",),
                  validation_speakers=("dave",), background_dirs=("",), crop_seconds=0.25,
                  eval_crop_seconds=0.5))
  return data.get_dataset(cfg)


def _speech_streams(tmp):
  from tests.data.audio.test_speech_corpus import speech_config, write_asterisk_like  # pylint: disable=g-import-not-at-top
  write_asterisk_like(str(tmp / "sounds"))
  write_fsdd_like(str(tmp / "fsdd"), speakers=("george", "nicolas", "theo", "lucas"))
  return data.get_dataset(speech_config(tmp))


def _wav_dir(tmp):
  for i, folder in enumerate(("a", "b", "c")):
    (tmp / folder).mkdir()
    for j in range(2):
      soundfile.write(str(tmp / folder / f"{j}.wav"), tone(0.5, 8000, 200 + 30 * i + 7 * j), 8000)
  return data.get_dataset(mlc.ConfigDict(dict(
      name="wav_dir", source_dir=str(tmp), sample_rate=8000, crop_seconds=0.1,
      eval_crop_seconds=0.2, split_by="folder", test_fraction=0.2, validation_fraction=0.2)))


BUILDERS = {
    "fashion_mnist": _fashion_mnist,
    "cifar10": _mock_tfds("cifar10", (0, 1)),
    "tfds:": _mock_tfds("tfds:mnist", (3,)),
    "fsdd": _fsdd,
    "speech_commands": _speech_commands,
    "fsdd_streams": _fsdd_streams,
    "speech_streams": _speech_streams,
    "wav_dir": _wav_dir,
}


def test_every_builder_in_the_catalog_is_checked():
  assert set(BUILDERS) == set(data.DATASETS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_builder_implements_the_contract(name, tmp_path):
  mock = (tfds.testing.mock_data(num_examples=30, policy=tfds.testing.MockPolicy.USE_CODE)
          if name in ("cifar10", "tfds:") else contextlib.nullcontext())
  with mock:
    ds = BUILDERS[name](tmp_path)
    assert isinstance(ds, contract.Dataset), type(ds)
    assert isinstance(ds.name, str) and len(ds.class_names) == ds.num_classes
    labelled = contract.is_labelled(ds)
    assert labelled == (ds.num_classes > 1)
    if not labelled:
      assert ds.num_classes == contract.UNLABELLED and tuple(ds.class_names) == ()
    for split in contract.SPLITS:
      source = ds.source(split)
      assert isinstance(source, contract.Source), type(source)
      assert len(source) >= 2, (split, len(source))
      example = source[1]
      batch = source.read_batch([1, 0])
      train = source.augmented_batch([1, 0], [3, 3], seed=5)
      assert set(example) == set(batch) == set(train)
      assert set(example) == ({"inputs", "label", "source_label"} if labelled else {"inputs"})
      np.testing.assert_array_equal(batch["inputs"][0], example["inputs"])
      assert train["inputs"].shape == batch["inputs"].shape == (2, *np.shape(example["inputs"]))
      if labelled:
        assert batch["label"].dtype == np.int32
        assert 0 <= batch["label"].min() and batch["label"].max() < ds.num_classes
      with pytest.raises(IndexError):
        source[len(source)]  # pylint: disable=pointless-statement
    with pytest.raises(ValueError, match="valid splits: train, validation, test"):
      ds.source("val")


def test_the_source_base_serves_every_read_from_getitem():
  class Squares(contract.SourceBase):
    def __len__(self):
      return 5

    def __getitem__(self, i):
      return {"inputs": np.float32([contract.check_index(i, 5) ** 2])}

  source = Squares()
  assert isinstance(source, contract.Source)
  assert source.read_batch([2, 4])["inputs"].tolist() == [[4.0], [16.0]]
  assert source.augmented_batch([3], [7], seed=1)["inputs"].tolist() == [[9.0]]
  assert [e["inputs"][0] for e in source._getitems([1, 2])] == [1.0, 4.0]


def test_the_pipeline_probes_no_source():
  path = pathlib.Path(data.__file__).parent / "pipeline.py"
  calls = [n.func.id for n in ast.walk(ast.parse(path.read_text()))
           if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
  assert not {"getattr", "hasattr"} & set(calls)
