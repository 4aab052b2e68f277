"""Background audio (negatives) for always-on keyword spotting: silence, coloured noise, sounds.

Three kinds of background window, drawn with configurable weights:

- `silence`: only the bed, a faint white noise (`bed_noise_db`) that every clip also sits on, so
  that "exact zeros around the word" is no shortcut for the model.
- `noise`: white, pink, brown or blue noise (power spectrum `1 / f^exponent`), generated in NumPy.
- `real`: a crop of a real recording, e.g. the sounds of Debian's `sound-theme-freedesktop` package
  (bells, alarms, clicks, phone tones, a few spoken channel names; CC-BY(-SA)/GPL, see
  `/usr/share/doc/sound-theme-freedesktop/copyright`). Real files are assigned to train, validation
  and test by a stable hash of their name, so evaluation never sees the training sounds.

Levels are RMS in dBFS (0 dB: a full-scale square wave); FSDD speech is at about -50..-17 dBFS.
"""

import dataclasses
import logging
import math
import os
import zlib
from typing import Mapping, Sequence

import numpy as np

from gcnet.audio import audio_io
from gcnet.data.contract import SPLITS

DEBIAN_SOUND_THEME_DIR = "/usr/share/sounds/freedesktop/stereo"
NOISE_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0}
KINDS = ("silence", "noise", "real")


def rms_db(x: np.ndarray) -> float:
  """RMS level of `x` in dBFS (-inf for all zeros)."""
  ms = float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0
  return 10.0 * math.log10(ms) if ms > 0 else -math.inf


def set_level_db(x: np.ndarray, level_db: float) -> np.ndarray:
  """Scales `x` to an RMS of `level_db` dBFS (all-zero input stays zero)."""
  current = rms_db(x)
  if not math.isfinite(current):
    return np.asarray(x, np.float32)
  return (x * 10.0 ** ((level_db - current) / 20.0)).astype(np.float32)


def coloured_noise(rng: np.random.Generator, num_samples: int, colour: str = "white") -> np.ndarray:
  """Gaussian noise, power spectrum `~ 1 / f^exponent` of the colour, unit RMS: float32 `[T]`."""
  if colour not in NOISE_EXPONENTS:
    raise ValueError(f"Unknown noise colour {colour!r}; colours: {sorted(NOISE_EXPONENTS)}.")
  white = rng.standard_normal(num_samples)
  exponent = NOISE_EXPONENTS[colour]
  if exponent:
    spectrum = np.fft.rfft(white)
    freqs = np.arange(spectrum.shape[0], dtype=np.float64)
    freqs[0] = freqs[1] if freqs.shape[0] > 1 else 1.0  # no infinite DC gain
    white = np.fft.irfft(spectrum * freqs ** (-exponent / 2.0), n=num_samples)
    white -= white.mean()
  return set_level_db(white, 0.0)


def assign_split(rank: int, num_files: int) -> str:
  """Split of the file at position `rank` in the name-hash order of `num_files` files.

  The first 20% (at least one) go to test, the next 10% (at least one) to validation, the rest to
  train; with fewer than 3 files every split uses every file.
  """
  if num_files < 3:
    return "all"
  num_test = max(1, int(round(0.2 * num_files)))
  num_val = max(1, int(round(0.1 * num_files)))
  if rank < num_test:
    return "test"
  return "validation" if rank < num_test + num_val else "train"


def load_real_background(dirs: Sequence[str], sample_rate: int, skip_corrupt: bool = True
                         ) -> dict[str, list[np.ndarray]]:
  """Reads every audio file in `dirs`: `{split: [wave float32 [T]]}` for the three splits."""
  files = [f for d in dirs for f in audio_io.list_audio_files(d)]
  files = sorted(files, key=lambda p: (zlib.crc32(os.path.basename(p).encode()), p))
  loaded, _ = audio_io.read_many(files, sample_rate, skip_corrupt, what="background files")
  out = {s: [] for s in SPLITS}
  for rank, (_, wave) in enumerate(loaded):
    split = assign_split(rank, len(loaded))
    for s in (SPLITS if split == "all" else (split,)):
      out[s].append(wave)
  if loaded:
    logging.info("Real background: %d files (%s).", len(loaded),
                 ", ".join(f"{s} {len(v)}" for s, v in out.items()))
  return out


@dataclasses.dataclass(frozen=True)
class BackgroundSampler:
  """Draws background windows deterministically from a NumPy generator.

  Attributes:
    real: real recordings to crop from (those of one split); empty: no `real` kind.
    weights: kind -> weight (`silence`, `noise`, `real`); `real` is dropped when `real` is empty.
    noise_level_db: RMS range (dBFS) of noise and real windows, drawn uniformly.
    bed_noise_db: level of the faint white bed under everything; <= -120 gives exact zeros.
    colours: noise colours to draw from, uniformly.
    silence_level_db: range (dBFS) the bed of a silence window is drawn from (a level <= -120:
      exact zeros); None: `bed_noise_db`.
  """

  real: Sequence[np.ndarray] = ()
  weights: Mapping[str, float] = dataclasses.field(
      default_factory=lambda: {"silence": 0.2, "noise": 0.4, "real": 0.4})
  noise_level_db: tuple[float, float] = (-60.0, -25.0)
  bed_noise_db: float = -70.0
  colours: Sequence[str] = ("white", "pink", "brown", "blue")
  silence_level_db: tuple[float, float] | None = None

  def __post_init__(self):
    unknown = set(self.weights) - set(KINDS)
    if unknown:
      raise ValueError(f"Unknown background kinds {sorted(unknown)}; kinds: {KINDS}.")
    if sum(self.kind_probs().values()) <= 0:
      raise ValueError(f"Background weights {dict(self.weights)} leave no kind to draw.")

  def kind_probs(self) -> dict[str, float]:
    w = {k: float(v) for k, v in self.weights.items() if v > 0 and (k != "real" or self.real)}
    total = sum(w.values())
    return {k: v / total for k, v in w.items()} if total > 0 else w

  def bed(self, rng: np.random.Generator, num_samples: int, bank=None) -> np.ndarray:
    """The faint bed every window sits on, float32 `[T]`."""
    if self.bed_noise_db <= -120:
      return np.zeros(num_samples, np.float32)
    return self._coloured(rng, num_samples, "white", bank) * np.float32(
        10 ** (self.bed_noise_db / 20))

  def noise(self, rng: np.random.Generator, num_samples: int, bank=None) -> np.ndarray:
    """Noise or a real crop (no silence, no bed): for background windows and for augmentation."""
    kinds = [k for k in self.kind_probs() if k != "silence"] or ["noise"]
    probs = np.array([self.kind_probs().get(k, 1.0) for k in kinds])
    kind = kinds[rng.choice(len(kinds), p=probs / probs.sum())]
    level = rng.uniform(*self.noise_level_db)
    if kind == "real":
      return set_level_db(self._real_crop(rng, num_samples), level)
    colour = self.colours[rng.integers(len(self.colours))]
    return self._coloured(rng, num_samples, colour, bank) * np.float32(10 ** (level / 20))

  def window(self, rng: np.random.Generator, num_samples: int, bank=None
             ) -> tuple[np.ndarray, str]:
    """One background window float32 `[T]` and its kind.

    With `bank` (an `augment.NoiseBank`; training), coloured noise is a crop of it instead of
    generated afresh, which costs an FFT per window; evaluation windows leave it None.
    """
    probs = self.kind_probs()
    kinds = list(probs)
    kind = kinds[rng.choice(len(kinds), p=np.array([probs[k] for k in kinds]))]
    out = self.bed(rng, num_samples, bank)
    if kind == "silence" and self.silence_level_db is not None:
      level = rng.uniform(*self.silence_level_db)
      out = (np.zeros(num_samples, np.float32) if level <= -120 else
             self._coloured(rng, num_samples, "white", bank) * np.float32(10 ** (level / 20)))
    if kind == "noise":
      level = rng.uniform(*self.noise_level_db)
      colour = self.colours[rng.integers(len(self.colours))]
      out += self._coloured(rng, num_samples, colour, bank) * np.float32(10 ** (level / 20))
    elif kind == "real":
      out += set_level_db(self._real_crop(rng, num_samples), rng.uniform(*self.noise_level_db))
    return out.astype(np.float32), kind

  @staticmethod
  def _coloured(rng: np.random.Generator, num_samples: int, colour: str, bank) -> np.ndarray:
    """Unit-RMS noise of `colour`: a crop of `bank` when given, else generated."""
    if bank is not None:
      return bank.crop(rng, num_samples, colour)
    return coloured_noise(rng, num_samples, colour)

  def _real_crop(self, rng: np.random.Generator, num_samples: int) -> np.ndarray:
    """A random stretch of a random real file; short files land at a random place on zeros."""
    wave = self.real[rng.integers(len(self.real))]
    out = np.zeros(num_samples, np.float32)
    if wave.shape[0] >= num_samples:
      start = rng.integers(wave.shape[0] - num_samples + 1)
      out[:] = wave[start:start + num_samples]
    else:
      start = rng.integers(num_samples - wave.shape[0] + 1)
      out[start:start + wave.shape[0]] = wave
    return out
