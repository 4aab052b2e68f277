"""Fixed-length audio windows for keyword spotting, with deterministic training augmentation.

A window is `window_len` samples. A clip shorter than the window is placed on the bed (centred for
evaluation, at a random shift for training); a longer clip is cropped (centred, or at random).
Augmentation is a pure function of `(seed, epoch, index)`: any example of any epoch can be rebuilt
on its own, which is what a random-access Grain `MapDataset` needs.

`sliding_windows` cuts a long recording into windows for streaming inference with the same length.
"""

import dataclasses
import math
from typing import Callable

import numpy as np

from gcnet.data import contract
from gcnet.data.audio import augment as augment_lib
from gcnet.data.audio import background as bg

SPLIT_IDS = {s: i for i, s in enumerate(contract.SPLITS)}  # train 0, validation 1, test 2
_EVAL_KEY = 1  # appended to evaluation keys, so they never share a stream with a training key


def example_rng(*key: int) -> np.random.Generator:
  """A NumPy generator determined by a tuple of non-negative ints, e.g. `(seed, epoch, index)`."""
  return np.random.default_rng(np.random.SeedSequence([int(k) for k in key]))


def centre_offset(clip_len: int, window_len: int) -> int:
  """Offset of a centred clip in the window (negative: the clip is longer and cropped)."""
  return (window_len - clip_len) // 2


def random_offset(rng: np.random.Generator, clip_len: int, window_len: int) -> int:
  """A uniform offset that keeps the clip inside the window, or the window inside the clip."""
  lo, hi = sorted((0, window_len - clip_len))
  return int(rng.integers(lo, hi + 1))


def place(clip: np.ndarray, window_len: int, offset: int, bed: np.ndarray | None = None
          ) -> np.ndarray:
  """Window float32 `[window_len]` with `window[t] = bed[t] + clip[t - offset]` where defined."""
  out = np.zeros(window_len, np.float32) if bed is None else np.array(bed, np.float32)
  start, stop = max(0, offset), min(window_len, offset + clip.shape[0])
  if stop > start:
    out[start:stop] += clip[start - offset:stop - offset]
  return out


def sliding_windows(wave: np.ndarray, window_len: int, hop: int) -> np.ndarray:
  """`[T]` -> `[N, window_len]` windows every `hop` samples; the tail is zero-padded so the last
  window reaches the end. `N = 1 + ceil(max(T - window_len, 0) / hop)`."""
  if window_len <= 0 or hop <= 0:
    raise ValueError(f"window_len and hop must be positive; got {window_len}, {hop}.")
  num = 1 + math.ceil(max(wave.shape[0] - window_len, 0) / hop)
  padded = np.zeros((num - 1) * hop + window_len, np.float32)
  padded[:wave.shape[0]] = wave[:padded.shape[0]]
  idx = np.arange(num)[:, None] * hop + np.arange(window_len)[None]
  return padded[idx]


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float,
               reference: np.ndarray | None = None) -> np.ndarray:
  """`signal + a * noise`, `a` such that RMS(reference) / RMS(a * noise) is `snr_db` dB.

  `reference` defaults to `signal`; pass the clip itself when `signal` is a window of mostly bed.
  """
  sig_db = bg.rms_db(signal if reference is None else reference)
  noise_db = bg.rms_db(noise)
  if not (math.isfinite(sig_db) and math.isfinite(noise_db)):
    return np.asarray(signal, np.float32)
  return (signal + noise * 10.0 ** ((sig_db - snr_db - noise_db) / 20.0)).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class Augment:
  """Training augmentation of keyword windows (background windows are simply drawn afresh).

  Attributes:
    shift: random placement of the clip in the window (False: centred).
    gain_db: uniform range of a gain applied to the clip.
    noise_prob: probability of mixing background noise (or a real sound) under the clip.
    snr_db: uniform range of the clip-to-noise ratio of that mix.
    speeds: speed-perturbation factors (`augment.speed_perturb`); () for none.
    semitones: pitch shifts (`augment.pitch_shift`); () for none.
    perturb_prob: probability of replacing the clip by one of its speed or pitch variants.
    reverb_prob: probability of convolving the window with a simulated room impulse response.
    num_rirs: size of the bank of simulated rooms (`augment.RirBank`).
  """

  shift: bool = True
  gain_db: tuple[float, float] = (-6.0, 6.0)
  noise_prob: float = 0.5
  snr_db: tuple[float, float] = (0.0, 20.0)
  speeds: tuple[float, ...] = ()
  semitones: tuple[float, ...] = ()
  perturb_prob: float = 0.0
  reverb_prob: float = 0.0
  num_rirs: int = 32


class KwsWindows(contract.SourceBase):
  """Random-access keyword-spotting windows: `num_clips` labelled clips, then background windows.

  `source[i]` is the deterministic evaluation example `{"inputs": float32 [window_len],
  "label": int32, "source_label": int32}`; `source.augmented(i, epoch, seed)` the training example.

  Args:
    get_clip: `i -> float32 [T_i]` clip `i` (`0 <= i < num_clips`), at the window's sample rate.
    source_labels: int `[num_clips]` original class of each clip.
    label_table: int `[num_source_classes]` original class -> label in `0..K`
      (`gcnet.data.labels.label_table`); it must cover `background_source`.
    num_background: background windows appended after the clips (source label `background_source`).
    sampler: draws background windows and augmentation noise.
    window_len: samples per window.
    split: "train", "validation" or "test" (keys the deterministic evaluation randomness).
    seed: seed of the evaluation randomness (beds, background windows).
    augment: training augmentation (None: `augmented` returns the evaluation example).
    sample_rate: of the clips, Hz (speed, pitch and reverberation need it).
  """

  def __init__(self, get_clip: Callable[[int], np.ndarray], source_labels: np.ndarray,
               label_table: np.ndarray, num_background: int,
               sampler: bg.BackgroundSampler, window_len: int, split: str, seed: int = 0,
               background_source: int = 10, augment: Augment | None = None,
               sample_rate: int = 8000):
    self._get_clip = get_clip
    self.num_clips = int(len(source_labels))
    self.num_background = int(num_background)
    self.source_labels = np.concatenate([
        np.asarray(source_labels, np.int32),
        np.full(self.num_background, background_source, np.int32)])
    self.labels = np.asarray(label_table, np.int32)[self.source_labels]
    self.sampler = sampler
    self.window_len = int(window_len)
    self.split = split
    self.seed = int(seed)
    self.augment = augment
    self.sample_rate = int(sample_rate)
    self._perturbed = None
    if augment is not None and (augment.speeds or augment.semitones):
      self._perturbed = augment_lib.PerturbedClips(get_clip, sample_rate, augment.speeds,
                                                   augment.semitones)

  def __len__(self) -> int:
    return self.num_clips + self.num_background

  def __getitem__(self, index: int) -> dict[str, np.ndarray]:
    index = self._check(index)
    rng = example_rng(self.seed, SPLIT_IDS[self.split], index, _EVAL_KEY)
    if index >= self.num_clips:
      return self._example(index, self.sampler.window(rng, self.window_len)[0])
    clip = self._get_clip(index)
    window = place(clip, self.window_len, centre_offset(clip.shape[0], self.window_len),
                   self.sampler.bed(rng, self.window_len))
    return self._example(index, window)

  def augmented_batch(self, indices, epochs, seed: int) -> contract.Batch:
    """The batch of training examples `augmented(i, e, seed)` for paired `indices` and `epochs`."""
    return contract.stack_examples([self.augmented(i, e, seed) for i, e in zip(indices, epochs)])

  def augmented(self, index: int, epoch: int, seed: int) -> dict[str, np.ndarray]:
    """The training example `index` of `epoch`: a pure function of `(seed, epoch, index)`.

    A keyword or word clip gets, in order: a speed or pitch variant (`perturb_prob`), a gain, a
    random shift, reverberation (`reverb_prob`), background mixed at an SNR (`noise_prob`), the
    bed; background windows are drawn afresh. Coloured noise and the bed are crops of a
    `NoiseBank`.
    """
    index = self._check(index)
    if self.augment is None:
      return self[index]
    aug, rng = self.augment, example_rng(seed, epoch, index)
    bank = augment_lib.shared_bank("noise", self.sample_rate)
    if index >= self.num_clips:
      return self._example(index, self.sampler.window(rng, self.window_len, bank)[0])
    variant = 0
    if self._perturbed is not None and rng.uniform() < aug.perturb_prob:
      variant = 1 + int(rng.integers(self._perturbed.num_variants - 1))
    clip = (self._perturbed(index, variant) if self._perturbed is not None
            else self._get_clip(index))
    clip = clip * np.float32(10.0 ** (rng.uniform(*aug.gain_db) / 20.0))
    offset = (random_offset(rng, clip.shape[0], self.window_len) if aug.shift
              else centre_offset(clip.shape[0], self.window_len))
    window = place(clip, self.window_len, offset)
    if aug.reverb_prob > 0 and rng.uniform() < aug.reverb_prob:
      rirs = augment_lib.shared_bank("rir", aug.num_rirs, self.sample_rate)
      window = rirs.apply(window, int(rng.integers(len(rirs))))
    if rng.uniform() < aug.noise_prob:
      start = max(0, offset)
      speech = window[start:start + min(clip.shape[0], self.window_len)]   # the clip's span
      window = mix_at_snr(window, self.sampler.noise(rng, self.window_len, bank),
                          rng.uniform(*aug.snr_db), reference=speech)
    window += self.sampler.bed(rng, self.window_len, bank)
    return self._example(index, np.clip(window, -1.0, 1.0))

  def _check(self, index) -> int:
    index = int(index)
    if not 0 <= index < len(self):
      raise IndexError(f"Index {index} out of range for {len(self)} {self.split} windows.")
    return index

  def _example(self, index: int, window: np.ndarray) -> dict[str, np.ndarray]:
    return {"inputs": np.asarray(window, np.float32),
            "label": np.int32(self.labels[index]),
            "source_label": np.int32(self.source_labels[index])}


class AugmentedView:
  """A random-access view of `source` that applies training augmentation for one `epoch`.

  A Grain pipeline spanning epochs pairs each shuffled index with its epoch instead (position in
  the repeated stream // len) and reads batches with `source.augmented_batch`; this view fixes the
  epoch, for tests and simple loops.
  """

  def __init__(self, source: KwsWindows, seed: int, epoch: int = 0):
    self.source, self.seed, self.epoch = source, int(seed), int(epoch)

  def __len__(self) -> int:
    return len(self.source)

  def __getitem__(self, index: int) -> dict[str, np.ndarray]:
    return self.source.augmented(index, self.epoch, self.seed)
