"""`KwsDataset`: keyword-spotting windows, a `gcnet.data.contract.Dataset`.

Each split is a `KwsWindows` source: the split's labelled clips (keywords and other words), then
background windows (silence, noise, real sounds) making up `background_fraction` of the split.
Examples are `{"inputs": float32 [window_len], "label": int32, "source_label": int32}`; the source
labels are the dataset's word classes, and `len(words)` for generated background windows.

Training augmentation: `source.augmented(index, epoch, seed)` (see `audio_windows.KwsWindows`);
`source[index]` is the deterministic evaluation example of every split.
"""

import math
from typing import Callable, Mapping, Sequence

import numpy as np

from gcnet.audio import audio_io
from gcnet.data.audio import windows as aw
from gcnet.data.audio import background as bg
from gcnet.data.audio import negatives
from gcnet.data import labels as labels_lib
from gcnet.data import contract


def background_count(num_clips: int, fraction: float) -> int:
  """Background windows to add to `num_clips` clips so that they are `fraction` of the split."""
  if not 0.0 <= fraction < 1.0:
    raise ValueError(f"background_fraction must be in [0, 1); got {fraction}.")
  return int(math.floor(num_clips * fraction / (1.0 - fraction) + 0.5))


def sampler_from_config(data_config, real: Sequence[np.ndarray] = ()) -> bg.BackgroundSampler:
  """The background sampler of `config.data` (`background_weights`, levels) over `real` clips."""
  return bg.BackgroundSampler(
      real=tuple(real), weights=dict(data_config.background_weights),
      noise_level_db=tuple(data_config.noise_level_db), bed_noise_db=data_config.bed_noise_db,
      silence_level_db=_silence_levels(data_config))


def _silence_levels(data_config) -> tuple[float, float] | None:
  """`config.data.silence_level_db`, None when it is the fixed bed (the sampler's default)."""
  levels = tuple(data_config.get("silence_level_db", ()))
  return None if not levels or levels == (data_config.bed_noise_db,) * 2 else levels


def augment_from_config(data_config) -> aw.Augment | None:
  """`config.data.augment` as an `Augment` (None when `augment.enabled` is False)."""
  a = data_config.augment
  if not a.enabled:
    return None
  return aw.Augment(shift=a.shift, gain_db=tuple(a.gain_db), noise_prob=a.noise_prob,
                    snr_db=tuple(a.snr_db), speeds=tuple(a.get("speeds", ())),
                    semitones=tuple(a.get("semitones", ())),
                    perturb_prob=a.get("perturb_prob", 0.0),
                    reverb_prob=a.get("reverb_prob", 0.0), num_rirs=a.get("num_rirs", 32))


def real_background_from_config(data_config) -> dict[str, list[np.ndarray]]:
  """Real background clips per split (may be empty).

  `config.data.background_dirs`: files assigned to the three splits by name hash. Then
  `config.data.negative_sources` (`{"train": names, "eval": names}`, see `negatives`): every file of
  the training sources goes to train; the evaluation sources' files alternate between validation
  and test (in each source's sorted order), so no evaluation sound is ever trained on.
  """
  dirs = [d for d in data_config.background_dirs if d]
  out = (bg.load_real_background(dirs, data_config.sample_rate, skip_corrupt=True) if dirs
         else {s: [] for s in contract.SPLITS})
  sources = data_config.get("negative_sources")
  if sources:
    cache = data_config.get("negatives_cache_dir", "")
    rate = data_config.sample_rate
    for waves in negatives.load_sources(tuple(sources.get("train", ())), rate, cache).values():
      out["train"].extend(waves)
    for waves in negatives.load_sources(tuple(sources.get("eval", ())), rate, cache).values():
      for i, wave in enumerate(waves):
        out["test" if i % 2 == 0 else "validation"].append(wave)
  return out


class KwsDataset:
  """A keyword-spotting dataset split into train / validation / test windows.

  Attributes:
    name: registered name.
    num_classes: K + 1.
    class_names: the K keyword names in config order, then "background".
    input_shape: `(window_len,)`.
    positive_classes: source class ids of the K keywords.
    source_class_names: names of the word classes by id, then "background" (generated windows).
    sample_rate: of every window, Hz.
  """

  def __init__(self, name: str, *, word_names: Sequence[str], data_config,
               clips: Mapping[str, tuple[Callable[[int], np.ndarray], np.ndarray]],
               real_background: Mapping[str, Sequence[np.ndarray]] | None = None):
    """Builds the splits.

    Args:
      name: registered name.
      word_names: names of the dataset's word classes (source labels `0..len - 1`).
      data_config: `config.data`: positive_classes, sample_rate, window_seconds, split_seed,
        background_fraction, background_weights, noise_level_db, bed_noise_db, augment.
      clips: split -> `(get_clip(i) -> float32 [T_i], source labels int [N])`.
      real_background: split -> real background recordings (None or empty: none).
    """
    self.name = name
    self.positive_classes = labels_lib.validate_positive_classes(
        data_config.positive_classes, tuple(word_names), name)
    self.source_class_names = tuple(word_names) + (labels_lib.BACKGROUND,)
    self.class_names = labels_lib.class_names(self.positive_classes, self.source_class_names)
    self.num_classes = len(self.class_names)
    self.sample_rate = audio_io.check_sample_rate(data_config.sample_rate)
    window_len = int(round(data_config.window_seconds * self.sample_rate))
    if window_len <= 0:
      raise ValueError(f"window_seconds={data_config.window_seconds} gives no samples.")
    self.input_shape = (window_len,)
    table = labels_lib.label_table(self.positive_classes, len(self.source_class_names))
    augment = augment_from_config(data_config)
    real_background = real_background or {}
    self._sources = {}
    for split in contract.SPLITS:
      get_clip, source_labels = clips[split]
      self._sources[split] = aw.KwsWindows(
          get_clip, np.asarray(source_labels, np.int32), table,
          background_count(len(source_labels), data_config.background_fraction),
          sampler_from_config(data_config, real_background.get(split, ())), window_len, split,
          seed=data_config.split_seed, background_source=len(word_names),
          augment=augment if split == "train" else None, sample_rate=self.sample_rate)

  @property
  def num_positive(self) -> int:
    return self.num_classes - 1

  def source(self, split: str) -> aw.KwsWindows:
    """Random-access windows of `split` in `contract.SPLITS`."""
    return self._sources[contract.check_split(split, self.name)]

  def __repr__(self) -> str:
    sizes = ", ".join(f"{s} {len(v)}" for s, v in self._sources.items())
    return f"KwsDataset({self.name!r}, classes={self.class_names}, windows: {sizes})"
