"""Scoring streaming detections against the ground truth of a generated stream (`make_stream`).

Truth: `{"events": [{start_s, end_s, word, keyword (bool), label_name}], ...}` for every spoken
clip (keywords and other words). A detection **hits** a keyword when it has the keyword's label and
its span overlaps the keyword's span; each keyword is hit at most once (extra detections of an
already-hit keyword are **duplicates**). Detections that hit nothing are **false alarms**, split by
what they overlap: another word, or only background. Keywords never hit are **misses**.

A hit's **latency** is `detected_s - end_s` of its keyword: from the end of the spoken word to the
completion of the first window that reported it. A truth with `segments` (`make_background`: the
stretches of each negative source) also gets the false alarms of each source and per hour of it.
"""

import statistics


def _overlaps(a: dict, b: dict) -> bool:
  return a["start_s"] < b["end_s"] and b["start_s"] < a["end_s"]


def score_detections(detections: list[dict], truth: dict) -> dict:
  """Counts hits, misses, duplicates and false alarms.

  Args:
    detections: events of `stream.stream_file` (`start_s`, `end_s`, `label_name`).
    truth: the ground truth JSON of `make_stream`.
  Returns:
    `{keywords, hits, misses, recall, duplicates, false_alarms, false_alarms_on_words,
    false_alarms_on_background, false_alarms_per_minute, false_alarms_per_hour, latency_s
    {mean, median, max} (None without hits), missed: [truth events]}`, and with `segments` in the
    truth `per_source: {source: {false_alarms, hours, false_alarms_per_hour}}`.
  """
  words = truth["events"]
  keywords = [w for w in words if w["keyword"]]
  hit = [False] * len(keywords)
  duplicates = fa_words = fa_background = 0
  latencies, alarms = [], []
  for det in detections:
    matches = [k for k, w in enumerate(keywords)
               if w["label_name"] == det["label_name"] and _overlaps(det, w)]
    fresh = [k for k in matches if not hit[k]]
    if fresh:
      hit[fresh[0]] = True
      if "detected_s" in det:
        latencies.append(det["detected_s"] - keywords[fresh[0]]["end_s"])
    elif matches:
      duplicates += 1
    elif any(_overlaps(det, w) for w in words):
      fa_words += 1
      alarms.append(det)
    else:
      fa_background += 1
      alarms.append(det)
  hits = sum(hit)
  minutes = truth.get("duration_s", 0.0) / 60.0
  false_alarms = fa_words + fa_background
  extra = {}
  if "segments" in truth:
    extra["per_source"] = per_source_alarms(alarms, truth["segments"], truth.get("duration_s"))
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
      "false_alarms_per_hour": false_alarms / minutes * 60.0 if minutes else None,
      "latency_s": ({"mean": statistics.fmean(latencies), "median": statistics.median(latencies),
                     "max": max(latencies)} if latencies else None),
      **extra,
      "missed": [w for w, h in zip(keywords, hit) if not h],
  }


def per_source_alarms(alarms: list[dict], segments: list[dict],
                      duration_s: float | None = None) -> dict:
  """False alarms attributed to the source segment their peak (else start) falls in, or to the gaps
  between segments (`"gaps"`: silence and noise; their hours are the rest of `duration_s`), with
  each source's hours: `{source: {false_alarms, hours, false_alarms_per_hour}}`."""
  out = {}
  for seg in segments:
    row = out.setdefault(seg["source"], {"false_alarms": 0, "hours": 0.0})
    row["hours"] += (seg["end_s"] - seg["start_s"]) / 3600.0
  in_segments = sum(row["hours"] for row in out.values())
  out.setdefault("gaps", {"false_alarms": 0, "hours": (
      max(duration_s / 3600.0 - in_segments, 0.0) if duration_s else None)})
  for det in alarms:
    t = det.get("peak_s", det["start_s"])
    where = next((s["source"] for s in segments if s["start_s"] <= t < s["end_s"]), "gaps")
    out[where]["false_alarms"] += 1
  for row in out.values():
    row["false_alarms_per_hour"] = (row["false_alarms"] / row["hours"] if row["hours"] else None)
  return out
