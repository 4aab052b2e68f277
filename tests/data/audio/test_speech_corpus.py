"""The speech corpus builder (Debian prompt speakers + FSDD, split by speaker) and its streams."""

import os

import ml_collections as mlc
import numpy as np
import pytest
import soundfile

from codec_data_testutil import tone, write_fsdd_like
from gcnet import data as data_lib
from gcnet.data.audio import speech_corpus


def write_asterisk_like(root: str, skip=()) -> None:
  """Two prompts per speaker (one in a sub-directory), an empty prompt and a `silence/` file."""
  for i, speaker in enumerate(speech_corpus.SPEAKERS):
    if speaker.name in skip:
      continue
    base = os.path.join(root, speaker.directory)
    os.makedirs(os.path.join(base, "digits"))
    os.makedirs(os.path.join(base, "silence"))
    for j, path in enumerate((os.path.join(base, "hello.wav"),
                              os.path.join(base, "digits", "1.wav"))):
      soundfile.write(path, tone(0.6, 8000, 120 + 40 * i, seed=j), 8000, subtype="PCM_16")
    soundfile.write(os.path.join(base, "silence", "1.wav"), np.zeros(800), 8000)
    soundfile.write(os.path.join(base, "empty.wav"), np.zeros(0), 8000)


def speech_config(tmp_path) -> mlc.ConfigDict:
  from experiments import codec_dsl  # pylint: disable=g-import-not-at-top
  data = codec_dsl.speech_data_config()
  data.asterisk_root = str(tmp_path / "sounds")
  data.source_dir = str(tmp_path / "fsdd")
  data.data_dir = str(tmp_path / "tfds")
  data.background_dirs = ("",)
  data.crop_seconds = 0.25
  data.eval_crop_seconds = 0.5
  return data


@pytest.fixture
def corpus_dirs(tmp_path):
  write_asterisk_like(str(tmp_path / "sounds"))
  write_fsdd_like(str(tmp_path / "fsdd"), speakers=("george", "nicolas", "theo", "lucas"))
  return tmp_path


def test_builder_splits_by_speaker_skipping_silence_and_empty_files(corpus_dirs):
  clips = speech_corpus.load_speakers(str(corpus_dirs / "tfds"), 8000,
                                      str(corpus_dirs / "sounds"), str(corpus_dirs / "fsdd"))
  assert set(clips) == {s.name for s in speech_corpus.SPEAKERS} | {
      "fsdd_george", "fsdd_nicolas", "fsdd_theo", "fsdd_lucas"}
  for speaker in speech_corpus.SPEAKERS:  # the two prompts, not silence/ nor the empty one
    assert [x.shape[0] for x in clips[speaker.name]] == [4800, 4800], speaker.name
    assert all(x.dtype == np.int16 and np.abs(x).max() > 1000 for x in clips[speaker.name])
  assert len(clips["fsdd_theo"]) == 4


def test_speech_streams_hold_out_whole_speakers_as_parts(corpus_dirs):
  ds = data_lib.get_dataset(speech_config(corpus_dirs))
  assert ds.parts("test") == ["test/ru_ivrvoice", "test/fsdd_theo"]
  assert ds.parts("validation") == ["validation/fr_armelle", "validation/fsdd_nicolas"]
  # The split is its parts joined in order; each part holds its speaker's speech and pauses.
  joined = np.concatenate([ds.streams[p] for p in ds.parts("test")])
  np.testing.assert_array_equal(ds.streams["test"], joined)
  assert 2 * 0.6 + 3 * 0.2 <= ds.seconds("test/ru_ivrvoice") <= 2 * 0.6 + 3 * 4.0
  # Training: the 4 other prompt speakers (2 x 0.6 s each) and FSDD george and lucas (4 x 0.3 s).
  speech = 4 * 2 * 0.6 + 2 * 4 * 0.3
  assert speech + 17 * 0.2 <= ds.seconds("train") <= speech + 17 * 4.0
  assert len(ds.source("test/fsdd_theo")) >= 1


def test_bad_speaker_split_and_missing_package_name_the_fix(corpus_dirs, tmp_path_factory):
  data = speech_config(corpus_dirs)
  data.validation_speakers = ("ru_ivrvoice",)        # also a test speaker
  with pytest.raises(ValueError, match="disjoint"):
    data_lib.get_dataset(data)
  other = tmp_path_factory.mktemp("partial")
  write_asterisk_like(str(other), skip=("fr_armelle",))
  with pytest.raises(FileNotFoundError, match="apt-get install asterisk-prompt-fr-armelle"):
    speech_corpus.corpus_files(str(other), str(corpus_dirs / "fsdd"))


@pytest.mark.needs_data
def test_real_debian_speakers_are_installed(fsdd_dir):
  """The six packaged speakers (8 kHz WAV and GSM) and FSDD: fails naming the apt-get install."""
  files = speech_corpus.corpus_files(speech_corpus.ASTERISK_ROOT, fsdd_dir)
  for speaker in speech_corpus.SPEAKERS:
    assert len(files[speaker.name]) >= 250, speaker.name
    assert not any("/silence/" in p for p in files[speaker.name])
  for path in (files["fr_armelle"][0], files["es_co"][0]):  # GSM 6.10, decoded by libsndfile
    assert path.endswith(".gsm") and soundfile.info(path).samplerate == 8000
  assert sum(len(files[f"fsdd_{s}"]) for s in speech_corpus.FSDD_SPEAKERS) == 3000
