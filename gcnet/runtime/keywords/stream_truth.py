"""Scoring streaming detections against the ground truth of a generated stream (`make_stream`).

Truth: `{"events": [{start_s, end_s, word, keyword (bool), label_name}], ...}` for every spoken
clip (keywords and other words). A detection **hits** a keyword when it has the keyword's label and
its span overlaps the keyword's span; each keyword is hit at most once (extra detections of an
already-hit keyword are **duplicates**). Detections that hit nothing are **false alarms**, split by
what they overlap: another word, or only background. Keywords never hit are **misses**.
"""


def _overlaps(a: dict, b: dict) -> bool:
  return a["start_s"] < b["end_s"] and b["start_s"] < a["end_s"]


def score_detections(detections: list[dict], truth: dict) -> dict:
  """Counts hits, misses, duplicates and false alarms.

  Args:
    detections: events of `stream.stream_file` (`start_s`, `end_s`, `label_name`).
    truth: the ground truth JSON of `make_stream`.
  Returns:
    `{keywords, hits, misses, recall, duplicates, false_alarms, false_alarms_on_words,
    false_alarms_on_background, false_alarms_per_minute, missed: [truth events]}`.
  """
  words = truth["events"]
  keywords = [w for w in words if w["keyword"]]
  hit = [False] * len(keywords)
  duplicates = fa_words = fa_background = 0
  for det in detections:
    matches = [k for k, w in enumerate(keywords)
               if w["label_name"] == det["label_name"] and _overlaps(det, w)]
    fresh = [k for k in matches if not hit[k]]
    if fresh:
      hit[fresh[0]] = True
    elif matches:
      duplicates += 1
    elif any(_overlaps(det, w) for w in words):
      fa_words += 1
    else:
      fa_background += 1
  hits = sum(hit)
  minutes = truth.get("duration_s", 0.0) / 60.0
  false_alarms = fa_words + fa_background
  return {
      "keywords": len(keywords),
      "hits": hits,
      "misses": len(keywords) - hits,
      "recall": hits / len(keywords) if keywords else None,
      "duplicates": duplicates,
      "false_alarms": false_alarms,
      "false_alarms_on_words": fa_words,
      "false_alarms_on_background": fa_background,
      "false_alarms_per_minute": false_alarms / minutes if minutes else None,
      "missed": [w for w, h in zip(keywords, hit) if not h],
  }
