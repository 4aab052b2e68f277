"""Real negatives from Debian packages: every source is there, training and evaluation apart.

These tests need the Debian packages of `negatives.DEBIAN_PACKAGES` (`make setup` installs them);
a missing one fails loudly, naming the `apt-get install` that fixes it.
"""

import os

import numpy as np
import pytest

from gcnet.data.audio import negatives

pytestmark = pytest.mark.needs_data


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
  """One cache of synthesized words for the module (espeak-ng runs once per word and voice)."""
  return str(tmp_path_factory.mktemp("negatives"))


@pytest.fixture(scope="module")
def files_of(cache):
  """`name -> files` of every source except the 2,900 synthesized confusables (tested apart)."""
  def get(name):
    if name == "confusable_synth":
      return []
    try:
      return negatives.source_files(name, cache)
    except FileNotFoundError as e:
      pytest.fail(f"{e} (needs the Debian packages {' '.join(negatives.DEBIAN_PACKAGES)})")
  return get


@pytest.mark.parametrize("name", [s for s in negatives.SOURCES if s != "confusable_synth"])
def test_every_source_has_readable_audio(name, files_of, cache):
  files = files_of(name)
  assert files and files == sorted(files)
  from gcnet.audio import audio_io  # pylint: disable=g-import-not-at-top
  loaded, _ = audio_io.read_many(files[:4], 8000, skip_corrupt=True, what=name)
  assert len(loaded) >= 3 and all(w.dtype == np.float32 and w.size > 0 for _, w in loaded)


@pytest.mark.parametrize("train,evals", [(negatives.TRAIN_SOURCES, negatives.EVAL_SOURCES),
                                         (negatives.NEW_TRAIN_SOURCES, negatives.NEW_EVAL_SOURCES)])
def test_training_and_evaluation_sources_share_no_file(train, evals, files_of):
  assert not set(train) & set(evals)
  train_files = {os.path.realpath(f) for s in train for f in files_of(s)}
  eval_files = {os.path.realpath(f) for s in evals for f in files_of(s)}
  assert train_files and eval_files and not train_files & eval_files


def test_no_synthetic_speech_is_evaluated_and_asterisk_speakers_are_apart():
  assert not set(negatives.NEW_EVAL_SOURCES) & set(negatives.SYNTHETIC_SOURCES)
  dirs = lambda names: {negatives._DIR_SOURCES.get(n, negatives._GSM_SOURCES.get(n, ("",)))[0]
                        for n in names if n.startswith("asterisk_")}
  assert len(dirs(negatives.NEW_TRAIN_SOURCES)) == 3 and len(dirs(negatives.NEW_EVAL_SOURCES)) == 3
  assert not dirs(negatives.NEW_TRAIN_SOURCES) & dirs(negatives.NEW_EVAL_SOURCES)


def test_gsm_prompts_decode_once(tmp_path):
  paths = negatives.decode_gsm("/usr/share/asterisk/sounds/fr", "asterisk-prompt-fr-armelle",
                               str(tmp_path))
  assert len(paths) > 300 and all(p.endswith(".wav") for p in paths)
  mtime = os.path.getmtime(paths[0])
  assert negatives.decode_gsm("/usr/share/asterisk/sounds/fr", "asterisk-prompt-fr-armelle",
                              str(tmp_path)) == paths and os.path.getmtime(paths[0]) == mtime
  with pytest.raises(FileNotFoundError, match="apt-get install some-package"):
    negatives.decode_gsm(str(tmp_path / "none"), "some-package", str(tmp_path / "out"))


def test_confusable_vocabulary_holds_the_phoneme_neighbours_and_numbers():
  vocab = negatives.confusable_vocabulary()
  assert len(vocab) == len(set(vocab)) > 100
  assert {"someone", "seventeen", "forty", "heaven", "fourteen"} <= set(vocab)
  assert not {"one", "four", "seven", "won", "for"} & set(vocab)


def test_synthesized_words_are_cached_and_voices_differ(tmp_path):
  a = negatives.espeak_words(("en-us+m1",), str(tmp_path / "a"), words=("eleven",), speeds=(150,))
  mtime = os.path.getmtime(a[0])
  again = negatives.espeak_words(("en-us+m1",), str(tmp_path / "a"), words=("eleven",),
                                 speeds=(150,))
  assert again == a and os.path.getmtime(a[0]) == mtime   # not synthesized twice
  b = negatives.espeak_words(("en-gb+f3",), str(tmp_path / "b"), words=("eleven",), speeds=(150,))
  import soundfile  # pylint: disable=g-import-not-at-top
  wa, wb = (soundfile.read(p)[0] for p in (a[0], b[0]))
  assert wa.shape != wb.shape or not np.array_equal(wa, wb)


def test_unknown_source_is_an_error():
  with pytest.raises(ValueError, match="Unknown negative source"):
    negatives.source_files("radio")
