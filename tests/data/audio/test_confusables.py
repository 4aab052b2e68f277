"""Confusable words found from the keywords' phonemes in the CMU dictionary (festlex-cmu)."""

import pytest

from gcnet.data.audio import confusables


def test_edit_distance():
  assert confusables.edit_distance("seven", "heaven") == 2
  assert confusables.edit_distance(("s", "eh"), ("s", "eh")) == 0
  assert confusables.edit_distance((), ("a", "b")) == 2


@pytest.mark.needs_data
def test_confusables_share_the_keywords_sounds_but_not_all_of_them():
  try:
    found = confusables.confusable_words(("one", "four", "seven"), per_keyword=30)
  except FileNotFoundError as e:
    pytest.fail(str(e))
  pron = confusables.pronunciations()
  assert "someone" in found["one"] and "seventeen" in found["seven"] and "fourth" in found["four"]
  for keyword, words in found.items():
    assert len(words) == 30 and len(set(words)) == 30
    assert keyword not in words and not set(words) & set(confusables.DIGIT_WORDS)
    assert all(pron[w] != pron[keyword] for w in words)      # no homophones ("won", "for")
  assert "won" not in found["one"] and "for" not in found["four"]
  assert found == confusables.confusable_words(("one", "four", "seven"), per_keyword=30)
