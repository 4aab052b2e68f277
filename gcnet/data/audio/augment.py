"""Speaker-robust augmentation of keyword clips, built from maintained libraries and cached.

Every random choice is drawn from the example's own NumPy generator (seeded by `(seed, epoch,
index)`, see `windows.example_rng`), so an augmented example is a pure function of those three
numbers. The expensive parts are deterministic and computed once, then reused:

- `PerturbedClips`: speed perturbation (`scipy.signal.resample_poly`: tempo and pitch change
  together, as in Kaldi's 3-way speed perturbation) and pitch shifts (`audiomentations.PitchShift`
  with the Signalsmith Stretch method: pitch alone). Each (clip, variant) pair is computed on first
  use and cached; a training example picks one variant (or the original).
- `RirBank`: room impulse responses of shoebox rooms simulated with `pyroomacoustics` (image-source
  method; room size, RT60 and positions drawn from a fixed seed), applied by FFT convolution.
- `NoiseBank`: seconds of white/pink/brown/blue noise at unit RMS generated once
  (`background.coloured_noise`); a window's noise is a random crop of one colour.

SpecAugment-style time and frequency masks act on log-mel features inside the jitted model
(`gcnet.models.spec_augment`); gain, shift and background mixing stay here (`windows.KwsWindows`).
"""

import dataclasses
import threading

import numpy as np
from scipy import signal

from gcnet.data.audio import background as bg


def speed_perturb(clip: np.ndarray, factor: float) -> np.ndarray:
  """`clip` played `factor` times faster (shorter, higher): float32 `[round(T / factor)]`."""
  if factor <= 0:
    raise ValueError(f"Speed factor must be positive; got {factor}.")
  up, down = _ratio(1.0 / factor)
  return signal.resample_poly(clip, up, down).astype(np.float32)


def pitch_shift(clip: np.ndarray, semitones: float, sample_rate: int) -> np.ndarray:
  """`clip` shifted by `semitones` at the same length (audiomentations, Signalsmith Stretch)."""
  import audiomentations  # pylint: disable=g-import-not-at-top  (optional: gcnet[audio])
  transform = audiomentations.PitchShift(min_semitones=semitones, max_semitones=semitones, p=1.0,
                                         method="signalsmith_stretch")
  transform.parameters = {"should_apply": True, "num_semitones": float(semitones)}
  return np.asarray(transform.apply(np.asarray(clip, np.float32), sample_rate), np.float32)


def _ratio(x: float, max_den: int = 100) -> tuple[int, int]:
  from fractions import Fraction  # pylint: disable=g-import-not-at-top
  f = Fraction(x).limit_denominator(max_den)
  return f.numerator, f.denominator


class PerturbedClips:
  """Clip `i`, variant `v`: `v = 0` the clip itself, then each speed factor, then each pitch shift.

  Variants are computed on first use and cached (a race between reading threads computes the same
  array twice, never a different one).

  Args:
    get_clip: `i -> float32 [T_i]`.
    sample_rate: Hz.
    speeds: speed factors (e.g. (0.9, 1.1)).
    semitones: pitch shifts (e.g. (-2.0, 2.0)).
  """

  def __init__(self, get_clip, sample_rate: int, speeds=(), semitones=()):
    self._get_clip = get_clip
    self.sample_rate = int(sample_rate)
    self.variants = (("none", 1.0),) + tuple(("speed", float(s)) for s in speeds) + tuple(
        ("pitch", float(p)) for p in semitones)
    self._cache: dict[tuple[int, int], np.ndarray] = {}

  @property
  def num_variants(self) -> int:
    return len(self.variants)

  def __call__(self, index: int, variant: int) -> np.ndarray:
    if variant == 0:
      return self._get_clip(index)
    key = (int(index), int(variant))
    out = self._cache.get(key)
    if out is None:
      kind, value = self.variants[variant]
      clip = self._get_clip(index)
      out = (speed_perturb(clip, value) if kind == "speed"
             else pitch_shift(clip, value, self.sample_rate))
      self._cache[key] = out
    return out

  def __getstate__(self):
    state = dict(self.__dict__)
    state["_cache"] = {}   # rebuilt in each worker process
    return state


@dataclasses.dataclass(frozen=True)
class RoomRange:
  """Ranges the simulated rooms are drawn from (uniformly)."""

  size_m: tuple[tuple[float, float], ...] = ((3.0, 8.0), (3.0, 8.0), (2.4, 3.5))
  rt60_s: tuple[float, float] = (0.15, 0.6)
  max_order: int = 12


class RirBank:
  """`num_rirs` room impulse responses simulated with pyroomacoustics from `seed`.

  Each RIR is float32 `[L_r]`, scaled so that its direct path has amplitude 1 and cut at 0.5 s.
  """

  def __init__(self, num_rirs: int, sample_rate: int, seed: int = 0,
               rooms: RoomRange = RoomRange()):
    import pyroomacoustics as pra  # pylint: disable=g-import-not-at-top  (optional: gcnet[audio])
    if num_rirs <= 0:
      raise ValueError(f"num_rirs must be positive; got {num_rirs}.")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x515]))
    self.rirs, self.rt60 = [], []
    for _ in range(num_rirs):
      dims = np.array([rng.uniform(*r) for r in rooms.size_m])
      rt60 = float(rng.uniform(*rooms.rt60_s))
      absorption, order = pra.inverse_sabine(rt60, dims)
      room = pra.ShoeBox(dims, fs=sample_rate, materials=pra.Material(absorption),
                         max_order=min(int(order), rooms.max_order))
      src, mic = (rng.uniform(0.5, dims - 0.5) for _ in range(2))
      room.add_source(src)
      room.add_microphone(mic)
      room.compute_rir()
      rir = np.asarray(room.rir[0][0], np.float64)[:int(0.5 * sample_rate)]
      peak = np.max(np.abs(rir))
      self.rirs.append((rir / peak).astype(np.float32))
      self.rt60.append(rt60)

  def __len__(self) -> int:
    return len(self.rirs)

  def apply(self, wave: np.ndarray, which: int) -> np.ndarray:
    """`wave` float32 `[T]` convolved with RIR `which`, aligned on its direct path, length `T`."""
    rir = self.rirs[which]
    delay = int(np.argmax(np.abs(rir)))
    out = signal.fftconvolve(wave, rir, mode="full")[delay:delay + wave.shape[0]]
    return out.astype(np.float32)


class NoiseBank:
  """`seconds` of unit-RMS noise per colour, generated once from `seed`; crops of it."""

  def __init__(self, sample_rate: int, seconds: float = 20.0, seed: int = 0,
               colours=tuple(bg.NOISE_EXPONENTS)):
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xB0B]))
    n = int(seconds * sample_rate)
    self.colours = tuple(colours)
    self._banks = {c: bg.coloured_noise(rng, n, c) for c in self.colours}

  def crop(self, rng: np.random.Generator, num_samples: int, colour: str | None = None
           ) -> np.ndarray:
    """A unit-RMS noise crop float32 `[num_samples]` (a random colour unless given)."""
    colour = colour or self.colours[rng.integers(len(self.colours))]
    if colour not in self._banks:
      raise ValueError(f"The noise bank has no {colour!r} noise; colours: {self.colours}.")
    bank = self._banks[colour]
    if num_samples > bank.shape[0]:
      raise ValueError(f"Noise bank of {bank.shape[0]} samples is shorter than {num_samples}.")
    start = int(rng.integers(bank.shape[0] - num_samples + 1))
    return bank[start:start + num_samples]


_BANK_LOCK = threading.Lock()
_BANKS: dict[tuple, object] = {}


def shared_bank(kind: str, *args):
  """One `RirBank` or `NoiseBank` per process and arguments (built on first use)."""
  key = (kind,) + args
  with _BANK_LOCK:
    if key not in _BANKS:
      _BANKS[key] = (RirBank if kind == "rir" else NoiseBank)(*args)
    return _BANKS[key]
