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


@pytest.mark.parametrize("name", negatives.SOURCES)
def test_every_source_has_readable_audio(name, cache):
  try:
    files = negatives.source_files(name, cache)
  except FileNotFoundError as e:
    pytest.fail(f"{e} (needs the Debian packages {' '.join(negatives.DEBIAN_PACKAGES)})")
  assert files and files == sorted(files)
  waves = negatives.load_sources([name], 8000, cache)[name]
  assert len(waves) == len(files) and all(w.dtype == np.float32 and w.size > 0 for w in waves)


def test_training_and_evaluation_sources_share_no_file(cache):
  assert not set(negatives.TRAIN_SOURCES) & set(negatives.EVAL_SOURCES)
  train = {os.path.realpath(f) for s in negatives.TRAIN_SOURCES
           for f in negatives.source_files(s, cache)}
  evals = {os.path.realpath(f) for s in negatives.EVAL_SOURCES
           for f in negatives.source_files(s, cache)}
  assert train and evals and not train & evals


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
