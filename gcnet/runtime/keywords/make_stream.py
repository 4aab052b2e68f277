"""Writes a long always-on test recording from held-out FSDD clips, and its ground truth.

  python -m gcnet.cli.make_stream --recordings=../shared/data/fsdd/recordings \
      --split=official --output=/tmp/stream.wav [--num_clips=60 --seed=0]

The recording is a faint white bed (as under every training window) with, in turn, a background
stretch (silence, coloured noise or a crop of a real sound of the *test* share of the background
directory, see `gcnet.data.audio.background.load_real_background`) and a spoken digit from the split's
test clips (official: takes 0-4; speaker_held_out: the test speakers). About half the digits are
keywords. `OUTPUT` minus `.wav` plus `.json` gets the truth: `{sample_rate, duration_s, keywords,
events: [{start_s, end_s, file, digit, word, keyword, label_name}], background: [{start_s, end_s,
kind}]}`.
"""

import json
import os

import numpy as np

from gcnet.audio import audio_io
from gcnet.data.audio import background as bg
from gcnet.data.audio import fsdd


def test_clips(recordings: str, split: str, test_speakers) -> list[tuple[str, int]]:
  """`[(path, digit)]` of the split's test clips, sorted by name."""
  out = []
  for name in sorted(os.listdir(recordings)):
    try:
      digit, speaker, take = fsdd.parse_name(name)
    except ValueError:
      continue
    if fsdd.clip_split(speaker, take, split, test_speakers) == "test":
      out.append((os.path.join(recordings, name), digit))
  if not out:
    raise FileNotFoundError(f"No {split} test clips in {recordings}.")
  return out


def _speaker(path: str) -> str:
  return fsdd.parse_name(os.path.basename(path))[1]


def speaker_gains(clips, sample_rate: int, level_db: float | None) -> dict[str, float]:
  """`{speaker: gain}` bringing each speaker's median clip RMS to `level_db` ({} for None)."""
  if level_db is None:
    return {}
  levels = {}
  for path, _ in clips:
    levels.setdefault(_speaker(path), []).append(bg.rms_db(audio_io.read_audio(path, sample_rate)[0]))
  return {s: float(10 ** ((level_db - np.median(v)) / 20)) for s, v in levels.items()}


def make_stream(clips, keywords, rng, *, num_clips: int, keyword_fraction: float,
                min_gap: float, max_gap: float, sample_rate: int, real=(),
                bed_noise_db: float = -70.0, speaker_level_db: float | None = None
                ) -> tuple[np.ndarray, dict]:
  """Builds the stream `float32 [T]` and its truth dict (see module doc).

  `speaker_level_db`: scale each speaker's clips by one gain so that the median RMS of all that
  speaker's `clips` is this level (the per-speaker level normalisation of training,
  `fsdd.speaker_gains`; a device's gain control adapted to its user); None: as recorded.
  """
  keywords = tuple(int(k) for k in keywords)
  gains = speaker_gains(clips, sample_rate, speaker_level_db)
  kw = [c for c in clips if c[1] in keywords]
  other = [c for c in clips if c[1] not in keywords]
  sampler = bg.BackgroundSampler(real=tuple(real), bed_noise_db=bed_noise_db)
  pieces, events, stretches, t = [], [], [], 0
  for _ in range(num_clips):
    gap = int(rng.uniform(min_gap, max_gap) * sample_rate)
    wave, kind = sampler.window(rng, gap)  # includes the bed
    pieces.append(wave)
    stretches.append({"start_s": t / sample_rate, "end_s": (t + gap) / sample_rate, "kind": kind})
    t += gap
    pool = kw if (rng.uniform() < keyword_fraction and kw) or not other else other
    path, digit = pool[rng.integers(len(pool))]
    clip, _ = audio_io.read_audio(path, sample_rate)
    clip = clip * np.float32(gains.get(_speaker(path), 1.0))
    pieces.append(clip + sampler.bed(rng, clip.shape[0]))
    is_kw = digit in keywords
    events.append({"start_s": t / sample_rate, "end_s": (t + clip.shape[0]) / sample_rate,
                   "file": os.path.basename(path), "digit": digit,
                   "word": fsdd.DIGIT_NAMES[digit], "keyword": is_kw,
                   "label_name": fsdd.DIGIT_NAMES[digit] if is_kw else "background"})
    t += clip.shape[0]
  tail = int(max_gap * sample_rate)
  pieces.append(sampler.bed(rng, tail))
  wave = np.clip(np.concatenate(pieces), -1.0, 1.0).astype(np.float32)
  truth = {"sample_rate": sample_rate, "duration_s": wave.shape[0] / sample_rate,
           "keywords": [fsdd.DIGIT_NAMES[k] for k in keywords], "events": events,
           "background": stretches}
  return wave, truth


def write_stream(output: str, wave: np.ndarray, truth: dict) -> str:
  """Writes `wave` (16-bit PCM at `truth["sample_rate"]`) and its truth beside it; returns the
  truth's path (`output` minus `.wav` plus `.json`)."""
  import soundfile  # pylint: disable=g-import-not-at-top  (optional dependency)
  os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
  soundfile.write(output, wave, truth["sample_rate"], subtype="PCM_16")
  truth_path = os.path.splitext(output)[0] + ".json"
  with open(truth_path, "w") as out:
    json.dump(truth, out, indent=1)
  return truth_path
