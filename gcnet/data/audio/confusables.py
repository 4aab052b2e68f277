"""Confusable words generated from the keywords' phonemes (CMU dictionary), for training negatives.

A keyword spotter must reject words that share most of a keyword's sounds ("someone", "forty",
"heaven", "eleven"). Instead of a hand-written list, `confusable_words` searches the CMU
pronouncing dictionary (`festlex-cmu`, installed with festival) for words whose phonemes

- differ from a keyword's by one edit (two for keywords of five or more phonemes: "eleven" for
  "seven"), or
- contain the keyword's phonemes as a contiguous run with at most four phonemes more ("someone",
  "forty", "seventeen"),

leaving out exact homophones ("won" for "one", "for" for "four": no microphone can tell them apart,
so training them as negatives would only teach the model to miss the keyword) and the digits.
Candidates are ranked: containing the keyword first, then by edit distance, then by how common the word is (its best log-probability
in festival's WSJ part-of-speech lexicon, `festlex-poslex`), so the list is deterministic and
favours words a device hears. Reduced vowels are merged (`ax` -> `ah`).
"""

import functools
import os
import re

CMUDICT = "/usr/share/festival/dicts/cmu/cmudict-0.4.out"
POSLEX = "/usr/share/festival/dicts/wsj.wp39.poslexR"
PACKAGES = "festlex-cmu festlex-poslex"
DIGIT_WORDS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight",
               "nine")
_ENTRY = re.compile(r'^\("([a-z]+)" \S+ (.*)\)\s*$')
_SYLLABLE = re.compile(r"\(\(([a-z ]+)\) \d\)")
_MERGE = {"ax": "ah"}


def _check(path: str) -> None:
  if not os.path.exists(path):
    raise FileNotFoundError(f"{path} is missing. Fix: apt-get install {PACKAGES}.")


@functools.lru_cache(maxsize=2)
def pronunciations(path: str = CMUDICT) -> dict[str, tuple[str, ...]]:
  """`{word: phonemes}` of the CMU dictionary's alphabetic words (first pronunciation)."""
  _check(path)
  out = {}
  with open(path, encoding="latin-1") as f:
    for line in f:
      m = _ENTRY.match(line)
      if m and m.group(1) not in out:
        phones = " ".join(_SYLLABLE.findall(m.group(2))).split()
        out[m.group(1)] = tuple(_MERGE.get(p, p) for p in phones)
  return out


@functools.lru_cache(maxsize=2)
def word_scores(path: str = POSLEX) -> dict[str, float]:
  """`{word: best log-probability}` over its parts of speech (higher: more common in the WSJ)."""
  _check(path)
  out = {}
  with open(path, encoding="latin-1") as f:
    for line in f:
      m = re.match(r'^\("([a-z]+)" \((.*?)\) \(\) \)', line)
      if m:
        probs = [float(x) for x in re.findall(r"-?\d+\.\d+", m.group(2))]
        if probs:
          out[m.group(1)] = max(probs)
  return out


def edit_distance(a, b) -> int:
  """Levenshtein distance of two sequences."""
  prev = list(range(len(b) + 1))
  for i, x in enumerate(a, 1):
    cur = [i]
    for j, y in enumerate(b, 1):
      cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
    prev = cur
  return prev[-1]


def _contains(seq, run) -> bool:
  n = len(run)
  return any(tuple(seq[i:i + n]) == tuple(run) for i in range(len(seq) - n + 1))


def confusable_words(keywords, per_keyword: int = 30) -> dict[str, list[str]]:
  """`{keyword: [word]}`: up to `per_keyword` confusable words of each keyword (see module doc),
  only words of the WSJ lexicon, best first."""
  pron, scores = pronunciations(), word_scores()
  homophones = {w for k in keywords for w, p in pron.items() if p == pron[k]}
  out = {}
  for keyword in keywords:
    target = pron[keyword]
    max_edit = 2 if len(target) >= 5 else 1
    found = []
    for word, phones in pron.items():
      if word in homophones or word in DIGIT_WORDS or word not in scores or len(word) < 3:
        continue
      if _contains(phones, target) and len(phones) - len(target) <= 4:
        found.append((0, -scores[word], word))
      else:
        d = edit_distance(phones, target)
        if d <= max_edit:
          found.append((d, -scores[word], word))
    out[keyword] = [w for _, _, w in sorted(found)[:per_keyword]]
  return out
