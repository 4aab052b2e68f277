"""A codec's quality on the speech-active and on the quiet parts of a whole recording.

`stream_quality(target, recon, sample_rate)` splits the reference `target [T]` into active and quiet
samples (`gcnet.audio.activity`, a level threshold), joins each part's samples in order (the same
joins in the reference and the reconstruction), cuts the joined signal into chunks of
`chunk_seconds` and scores each part:

- `pesq`: PESQ (narrow-band at 8 kHz, `pesq` package), mean over the chunks where it finds speech;
- `stoi`: STOI (`pystoi`, classic), mean over chunks;
- `mel_distance`: the multi-scale log-mel distance (`gcnet.audio.quality.mel_distance`), mean over
  chunks weighted by their length;
- `si_sdr`: SI-SDR (dB) of the whole joined part;
- `seconds`: the part's length.

A part too short to score (under `min_seconds`) gets NaN. PESQ and STOI are speech measures: on the
quiet part they are reported as measured, with no claim that they mean much there.
"""

import jax
import numpy as np

from gcnet.audio import activity
from gcnet.audio import quality

# Compiled once per shape (chunks are all `chunk_seconds` long but the last): op-by-op dispatch
# would compile every primitive of the STFTs for every new length.
_mel_distance = jax.jit(quality.mel_distance, static_argnums=2)
_si_sdr = jax.jit(quality.si_sdr)

PARTS = ("speech", "quiet")
METRICS = ("pesq", "stoi", "mel_distance", "si_sdr")


def _chunks(x: np.ndarray, size: int, min_size: int) -> list[np.ndarray]:
  pieces = [x[i:i + size] for i in range(0, x.shape[0], size)]
  if len(pieces) > 1 and pieces[-1].shape[0] < min_size:  # A short tail joins the chunk before.
    pieces[-2] = np.concatenate([pieces[-2], pieces.pop()])
  return [p for p in pieces if p.shape[0] >= min_size]


def stoi(target: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
  """Classic STOI of `estimate [T]` against `target [T]` (`pystoi`)."""
  from pystoi import stoi as _stoi  # pylint: disable=g-import-not-at-top  (optional dependency)
  return float(_stoi(np.asarray(target, np.float64), np.asarray(estimate, np.float64),
                     sample_rate, extended=False))


def part_quality(target: np.ndarray, recon: np.ndarray, sample_rate: int, chunk_seconds: float = 8.0,
                 min_seconds: float = 0.25, with_pesq: bool = True) -> dict[str, float]:
  """The metrics (module docstring) of `recon [N]` against `target [N]`, both already one part."""
  target = np.asarray(target, np.float32)
  recon = np.asarray(recon, np.float32)
  out = {"seconds": target.shape[0] / sample_rate, **{k: float("nan") for k in METRICS}}
  min_size = int(min_seconds * sample_rate)
  if target.shape[0] < min_size:
    return out
  size = int(chunk_seconds * sample_rate)
  pairs = list(zip(_chunks(target, size, min_size), _chunks(recon, size, min_size)))
  lengths = np.array([t.shape[0] for t, _ in pairs], np.float64)
  mel = [float(_mel_distance(t, e, sample_rate)[0]) for t, e in pairs]
  out["mel_distance"] = float(np.sum(lengths * np.array(mel)) / lengths.sum())
  out["si_sdr"] = float(_si_sdr(target, recon))
  out["stoi"] = float(np.mean([stoi(t, e, sample_rate) for t, e in pairs]))
  if with_pesq and quality.pesq_available():
    scores = np.concatenate([quality.pesq(t, e, sample_rate) for t, e in pairs])
    scores = scores[np.isfinite(scores)]
    out["pesq"] = float(np.mean(scores)) if scores.size else float("nan")
  return out


def stream_quality(target: np.ndarray, recon: np.ndarray, sample_rate: int,
                   threshold_db: float = activity.THRESHOLD_DB, with_pesq: bool = True,
                   chunk_seconds: float = 8.0) -> dict:
  """`{"speech": metrics, "quiet": metrics, "speech_fraction", "threshold_db"}` of `recon [T]`
  against the whole recording `target [T]` (module docstring)."""
  target = np.asarray(target, np.float32).reshape(-1)
  recon = np.asarray(recon, np.float32).reshape(-1)
  if target.shape != recon.shape:
    raise ValueError(f"The reconstruction has {recon.shape[0]} samples, the reference "
                     f"{target.shape[0]}: they must be aligned and of one length.")
  active = activity.active_mask(target, sample_rate, threshold_db)
  out = {"threshold_db": float(threshold_db), "speech_fraction": float(active.mean())}
  for part, mask in zip(PARTS, (active, ~active)):
    out[part] = part_quality(target[mask], recon[mask], sample_rate, chunk_seconds,
                             with_pesq=with_pesq)
  return out


def part_masks(target: np.ndarray, sample_rate: int, segment: int,
               threshold_db: float = activity.THRESHOLD_DB) -> np.ndarray:
  """Bool `[S]`: whether each `segment`-sample segment of `target [T]` is mostly speech-active
  (for the light fraction on speech and on quiet segments)."""
  active = activity.active_mask(target, sample_rate, threshold_db).astype(np.float64)
  active = np.pad(active, (0, -active.shape[0] % segment)).reshape(-1, segment)
  return active.mean(-1) >= 0.5
