"""Reading audio files into float32 mono waveforms at a chosen sample rate.

`soundfile` (libsndfile) reads WAV, FLAC and Ogg/Vorbis; it is the optional extra `gcnet[audio]`
and is imported on first use. Resampling uses `scipy.signal.resample_poly` (a polyphase FIR filter
with a Kaiser window), exact for any pair of integer rates.
"""

import logging
import math
import os
from typing import Iterable, Sequence

import numpy as np
from scipy import signal


# Sample rates a config may ask for: 1 kHz (far below speech's needs) to 192 kHz (studio audio).
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 192000
SKIP_CORRUPT_FIX = ("fix: replace or delete the file, or set --config.data.skip_corrupt=True to skip "
                    "unreadable files (they are counted and logged)")


def check_sample_rate(rate, key: str = "config.data.sample_rate") -> int:
  """Returns `rate` as an int, or raises a ValueError naming `key` and the fix.

  Clips recorded at any rate are resampled to it; the configured rate itself must be a whole number
  of Hz in [MIN_SAMPLE_RATE, MAX_SAMPLE_RATE].
  """
  ok = (not isinstance(rate, bool) and isinstance(rate, (int, float, np.integer, np.floating))
        and float(rate).is_integer() and MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE)
  if not ok:
    raise ValueError(
        f"{key}={rate!r} is not a usable audio sample rate: it must be a whole number of Hz from "
        f"{MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} (recordings at other rates are resampled to it). "
        f"Fix: e.g. --{key}=8000 (FSDD's rate) or --{key}=16000.")
  return int(rate)


class AudioReadError(ValueError):
  """An audio file that cannot be read or holds no usable signal; the message names the file."""

  def __init__(self, path: str, reason: str):
    super().__init__(f"Cannot read audio file {path}: {reason}")
    self.path = path
    self.reason = reason


def resample(wave: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
  """Resamples `[T]` (or `[..., T]`) float audio from `orig_rate` to `target_rate` Hz.

  The output has `ceil(T * target_rate / orig_rate)` samples. Same rate: returned unchanged.
  """
  orig_rate, target_rate = int(orig_rate), int(target_rate)
  if orig_rate <= 0 or target_rate <= 0:
    raise ValueError(f"Sample rates must be positive; got {orig_rate} -> {target_rate}.")
  if orig_rate == target_rate:
    return np.asarray(wave, np.float32)
  g = math.gcd(orig_rate, target_rate)
  out = signal.resample_poly(np.asarray(wave, np.float64), target_rate // g, orig_rate // g,
                             axis=-1)
  return out.astype(np.float32)


def read_audio(path: str, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
  """Reads an audio file as float32 mono in [-1, 1].

  Args:
    path: a file `soundfile` can read (WAV, FLAC, Ogg).
    sample_rate: resample to this rate (Hz); None keeps the file's rate.
  Returns:
    `(wave float32 [T], rate)`. Multichannel files are averaged to mono.
  Raises:
    AudioReadError: unreadable, empty or non-finite audio (the message names `path`).
  """
  import soundfile  # pylint: disable=g-import-not-at-top  (optional dependency)
  if not os.path.isfile(path):
    raise AudioReadError(path, "no such file" if not os.path.exists(path) else "not a file")
  if os.path.getsize(path) == 0:
    raise AudioReadError(path, "the file is empty (0 bytes)")
  try:
    data, rate = soundfile.read(path, dtype="float32", always_2d=True)
  except (RuntimeError, ValueError, EOFError) as e:  # LibsndfileError is a RuntimeError
    raise AudioReadError(path, str(e)) from e
  except OSError as e:
    raise AudioReadError(path, f"{type(e).__name__}: {e}") from e
  if data.shape[0] == 0:
    raise AudioReadError(path, "the file holds no samples")
  wave = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
  if not np.all(np.isfinite(wave)):
    raise AudioReadError(path, "non-finite samples")
  if sample_rate is not None and sample_rate != rate:
    wave, rate = resample(wave, rate, sample_rate), int(sample_rate)
  return np.ascontiguousarray(wave, np.float32), int(rate)


def describe(path: str) -> dict:
  """`{sample_rate, channels, seconds}` of an audio file; AudioReadError names an unreadable one."""
  import soundfile  # pylint: disable=g-import-not-at-top  (optional dependency)
  try:
    info = soundfile.info(path)
  except (RuntimeError, ValueError, EOFError, OSError) as e:
    raise AudioReadError(path, str(e)) from e
  return {"sample_rate": int(info.samplerate), "channels": int(info.channels),
          "seconds": float(info.duration)}


def read_many(paths: Iterable[str], sample_rate: int | None, skip_corrupt: bool = False,
              what: str = "audio files") -> tuple[list[tuple[str, np.ndarray]], list[str]]:
  """Reads files in order; returns `([(path, wave)], skipped paths)`.

  With `skip_corrupt=False` the first unreadable file raises `AudioReadError` (saying how to fix
  it); otherwise it is skipped, counted and the count logged as a warning.
  """
  good, skipped = [], []
  for path in paths:
    try:
      wave, _ = read_audio(path, sample_rate)
    except AudioReadError as e:
      if not skip_corrupt:
        raise AudioReadError(e.path, f"{e.reason}; {SKIP_CORRUPT_FIX}") from e
      logging.warning("%s", e)
      skipped.append(path)
      continue
    good.append((path, wave))
  if skipped:
    logging.warning("Skipped %d unreadable %s of %d (skip_corrupt=True): %s", len(skipped), what,
                    len(skipped) + len(good), ", ".join(os.path.basename(p) for p in skipped[:10]))
  return good, skipped


def to_int16(wave: np.ndarray) -> np.ndarray:
  """float `[-1, 1]` -> int16 (scale 32768 as libsndfile uses, rounded, clipped)."""
  return np.clip(np.round(np.asarray(wave, np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def from_int16(wave: np.ndarray) -> np.ndarray:
  """int16 -> float32 in [-1, 1]."""
  return np.asarray(wave, np.float32) / 32768.0


def list_audio_files(directory: str, extensions: Sequence[str] = (".wav", ".flac", ".ogg", ".oga")
                     ) -> list[str]:
  """Sorted audio files directly in `directory`, symlinks to the same file listed once."""
  if not os.path.isdir(directory):
    raise FileNotFoundError(f"Audio directory {directory} does not exist.")
  seen, files = set(), []
  for name in sorted(os.listdir(directory)):
    path = os.path.join(directory, name)
    real = os.path.realpath(path)
    if name.lower().endswith(tuple(extensions)) and os.path.isfile(real) and real not in seen:
      seen.add(real)
      files.append(path)
  return files
