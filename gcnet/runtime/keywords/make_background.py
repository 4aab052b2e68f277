"""Writes a long keyword-free recording from named negative sources, and its ground truth.

  python -m gcnet.cli.make_background --output=/tmp/background.wav --minutes=30

An always-on microphone spends most of its life hearing no keyword; this recording measures what
that costs: false alarms per hour, and how many windows the gate stops. It is a faint white bed
with, in turn, a stretch of silence or coloured noise (0.5-3 s) and a segment of one negative
source (`gcnet.data.audio.negatives`, the evaluation sources by default), the sources in turn. A
segment lasts `segment_s` (drawn uniformly; its source in turn, or drawn in proportion to the
sources' lengths with `by_duration`): a random crop of one random file, or, for files shorter
than that, random files one after another (0.2-1 s of bed between them), each at its own random
level (RMS -45..-20 dBFS; FSDD speech is -50..-17). So every source gets about the same share of
the time, and files repeat (at other levels and crops) when a source is shorter than its share.

The truth (`OUTPUT` minus `.wav` plus `.json`): `{sample_rate, duration_s, keywords: [],
events: [], segments: [{start_s, end_s, source, file}], sources: {source: seconds},
distinct_seconds: {source: seconds of its distinct audio}}`.
"""

import os

import numpy as np

from gcnet.audio import audio_io
from gcnet.data.audio import background as bg
from gcnet.data.audio import negatives


def make_background(sources: dict[str, list[tuple[str, np.ndarray]]], rng: np.random.Generator,
                    *, minutes: float, sample_rate: int, segment_s=(5.0, 20.0),
                    level_db=(-45.0, -20.0), gap_s=(0.5, 3.0), bed_noise_db: float = -70.0,
                    by_duration: bool = False, min_share: float = 0.03
                    ) -> tuple[np.ndarray, dict]:
  """Builds the recording float32 `[T]` and its truth (see module doc).

  Args:
    sources: source name -> `[(file name, wave float32 [T_i])]` at `sample_rate`, each non-empty.
    rng: every random choice.
    minutes: length of the recording (it ends after the segment that reaches it).
    by_duration: draw each segment's source with probability proportional to the source's
      distinct audio (at least `min_share`), so that long sources repeat no more than short ones
      (False: the sources in turn, equal time).
  """
  if not sources or any(not files for files in sources.values()):
    raise ValueError(f"Every source needs at least one file; got "
                     f"{ {k: len(v) for k, v in sources.items()} }.")
  sampler = bg.BackgroundSampler(weights={"silence": 1.0, "noise": 1.0}, bed_noise_db=bed_noise_db)
  names = sorted(sources)
  distinct = {n: sum(w.shape[0] for _, w in sources[n]) / sample_rate for n in names}
  share = np.array([distinct[n] for n in names]) / sum(distinct.values())
  share = np.maximum(share, min_share)
  share /= share.sum()
  total = int(minutes * 60 * sample_rate)
  pieces, segments, t, turn = [], [], 0, 0
  seconds = {n: 0.0 for n in names}
  while t < total:
    gap = int(rng.uniform(*gap_s) * sample_rate)
    pieces.append(sampler.window(rng, gap)[0])
    t += gap
    name = names[rng.choice(len(names), p=share) if by_duration else turn % len(names)]
    turn += 1
    target = int(rng.uniform(*segment_s) * sample_rate)
    filled = 0
    while filled < target:
      file, wave = sources[name][rng.integers(len(sources[name]))]
      length = min(wave.shape[0], target - filled)
      start = int(rng.integers(wave.shape[0] - length + 1))
      seg = bg.set_level_db(wave[start:start + length], rng.uniform(*level_db))
      pieces.append(seg + sampler.bed(rng, length))
      segments.append({"start_s": t / sample_rate, "end_s": (t + length) / sample_rate,
                       "source": name, "file": file})
      seconds[name] += length / sample_rate
      t += length
      filled += length
      if filled < target:
        pause = int(rng.uniform(0.2, 1.0) * sample_rate)
        pieces.append(sampler.bed(rng, pause))
        t += pause
        filled += pause
  wave = np.clip(np.concatenate(pieces), -1.0, 1.0).astype(np.float32)
  truth = {"sample_rate": sample_rate, "duration_s": wave.shape[0] / sample_rate,
           "keywords": [], "events": [], "segments": segments, "sources": seconds,
           "distinct_seconds": distinct}
  return wave, truth


def load_named_sources(names, sample_rate: int, cache_dir: str = ""
                       ) -> dict[str, list[tuple[str, np.ndarray]]]:
  """`{source: [(file name, wave)]}` of the named negative sources, resampled."""
  out = {}
  for name in names:
    loaded, _ = audio_io.read_many(negatives.source_files(name, cache_dir), sample_rate,
                                   skip_corrupt=True, what=f"negatives of {name}")
    out[name] = [(os.path.basename(p), w) for p, w in loaded]
  return out
