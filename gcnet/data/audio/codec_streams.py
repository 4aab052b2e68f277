"""Unlabelled audio for codec training: long streams cut into fixed-length crops.

`AudioCropDataset` holds one long float32 stream per split ("train", "validation", "test") and serves
crops of `crop_seconds`: every example is `{"inputs": float32 [T]}` with no label (see
docs/architecture.md). Training crops overlap by half and each epoch shifts them by a random offset
(`CropSource.augmented_batch`, a pure function of seed, epoch and index, so resuming is exact);
evaluation crops tile the stream without overlap.

`fsdd_streams` arranges the Free Spoken Digit Dataset as an always-on microphone would hear it: the
clips of each split, in a seeded random order and at a random level, joined by pauses of background
(faint bed noise, coloured noise or real sounds, from `gcnet.data.audio.background`) with a low-level bed
under the speech as well. Splits hold out whole speakers (`test_speakers`, `validation_speakers`).
"""

import dataclasses
import os
import zlib
from typing import Sequence

import numpy as np

from gcnet.audio import audio_io
from gcnet.data.audio import background
from gcnet.data import contract
from gcnet.data.audio import fsdd
from gcnet.data.contract import SPLITS



@dataclasses.dataclass(frozen=True, eq=False)
class CropSource(contract.SourceBase):
  """Random-access crops of one stream: crop `i` starts at `i * hop` (+ a training jitter).

  Attributes:
    stream: float32 `[N]`, `N >= crop`.
    crop: samples per example.
    hop: samples between crop starts.
    jitter: training only: crops start up to `hop - 1` samples later, drawn per (seed, epoch, i).
    level_db: if set, each crop is scaled to this RMS level (dBFS), with a gain of at most
      `max_gain_db`, so a quiet crop is lifted but a noise bed is not raised to speech level
      (training only: the reconstruction loss is not spent on near-silence).
    max_gain_db: the largest gain `level_db` may apply (dB); attenuation is not limited.
  """
  stream: np.ndarray
  crop: int
  hop: int
  jitter: bool = False
  level_db: float | None = None
  max_gain_db: float = 20.0

  def __len__(self) -> int:
    if self.stream.shape[0] < self.crop:
      return 0
    return (self.stream.shape[0] - self.crop) // self.hop + 1

  def _crop(self, start: int) -> dict[str, np.ndarray]:
    start = min(int(start), self.stream.shape[0] - self.crop)
    wave = np.array(self.stream[start:start + self.crop], np.float32)
    if self.level_db is not None:
      wave = normalize_level(wave, self.level_db, self.max_gain_db)
    return {"inputs": wave}

  def __getitem__(self, i: int) -> dict[str, np.ndarray]:
    return self._crop(contract.check_index(i, len(self), "crops") * self.hop)

  def augmented_batch(self, indices, epochs, seed: int) -> contract.Batch:
    """Training crops shifted by a random offset in `[0, hop)` that depends on (seed, epoch, i)."""
    if not self.jitter:
      return self.read_batch(indices)
    out = []
    for i, epoch in zip(indices, epochs):
      rng = np.random.default_rng([int(seed), int(epoch), int(i)])
      out.append(self._crop(int(i) * self.hop + int(rng.integers(self.hop))))
    return contract.stack_examples(out)


def normalize_level(wave: np.ndarray, level_db: float, max_gain_db: float) -> np.ndarray:
  """`wave [T]` scaled to RMS `level_db` dBFS with a gain of at most `max_gain_db` dB, clipped to
  [-1, 1]; an all-zero crop stays zero."""
  rms = float(np.sqrt(np.mean(np.square(wave, dtype=np.float64))))
  if rms <= 0.0:
    return wave
  gain_db = min(level_db - 20.0 * np.log10(rms), max_gain_db)
  return np.clip(wave * np.float32(10.0 ** (gain_db / 20.0)), -1.0, 1.0).astype(np.float32)


class AudioCropDataset:
  """An unlabelled audio dataset: `source(split)` gives `{"inputs": float32 [T]}` crops.

  Attributes:
    name: registered name.
    sample_rate: Hz of every stream.
    crop_samples: T, samples per training crop.
    num_classes: `contract.UNLABELLED` (no labels), with `class_names` `()`.
    input_shape: `(T,)`.
  """

  num_classes = contract.UNLABELLED
  class_names = ()

  def __init__(self, name: str, streams: dict[str, np.ndarray], sample_rate: int,
               crop_seconds: float, eval_crop_seconds: float | None = None,
               train_level_db: float | None = None, train_max_gain_db: float = 20.0):
    self.name = name
    self.train_level_db = train_level_db
    self.train_max_gain_db = float(train_max_gain_db)
    self.sample_rate = int(sample_rate)
    self.crop_samples = int(round(crop_seconds * sample_rate))
    self.eval_crop_samples = int(round((eval_crop_seconds or crop_seconds) * sample_rate))
    if self.crop_samples <= 0 or self.eval_crop_samples <= 0:
      raise ValueError(f"Crops must be positive: crop_seconds={crop_seconds}, "
                       f"eval_crop_seconds={eval_crop_seconds}.")
    self.input_shape = (self.crop_samples,)
    self.streams = {k: np.asarray(v, np.float32) for k, v in streams.items()}
    for split in SPLITS:
      n = self.streams[split].shape[0]
      need = self.crop_samples if split == "train" else self.eval_crop_samples
      if n < need:
        raise ValueError(f"Split {split!r} of dataset {name!r} holds {n / sample_rate:.2f} s of "
                         f"audio, less than one crop ({need / sample_rate:.2f} s).")

  def source(self, split: str) -> CropSource:
    """Training crops (half-overlapping, jittered) or evaluation crops (tiling, no jitter)."""
    if contract.check_split(split, self.name) == "train":
      return CropSource(self.streams[split], self.crop_samples, max(1, self.crop_samples // 2),
                        jitter=True, level_db=self.train_level_db,
                        max_gain_db=self.train_max_gain_db)
    return CropSource(self.streams[split], self.eval_crop_samples, self.eval_crop_samples)

  def seconds(self, split: str) -> float:
    return self.streams[split].shape[0] / self.sample_rate

  def __repr__(self) -> str:
    lengths = ", ".join(f"{s} {self.seconds(s):.0f} s" for s in SPLITS)
    return f"AudioCropDataset({self.name!r}, {self.sample_rate} Hz, {lengths})"


def join_with_pauses(clips: Sequence[np.ndarray], rng: np.random.Generator,
                     sampler: background.BackgroundSampler, pause_seconds: tuple[float, float],
                     speech_level_db: tuple[float, float], sample_rate: int,
                     long_pause_prob: float = 0.0,
                     long_pause_seconds: tuple[float, float] = (2.0, 4.0)) -> np.ndarray:
  """One always-on stream: `pause, clip, pause, clip, ..., pause`, float32 in [-1, 1].

  Each pause is a background window of `sampler` (silence on the bed, noise or a real sound) of a
  length drawn from `pause_seconds` (with probability `long_pause_prob` from `long_pause_seconds`);
  each clip is set to an RMS level drawn from `speech_level_db` and laid on the bed.
  """
  pieces = []
  for clip in list(clips) + [None]:
    long = rng.uniform() < long_pause_prob
    seconds = rng.uniform(*(long_pause_seconds if long else pause_seconds))
    pieces.append(sampler.window(rng, max(1, int(seconds * sample_rate)))[0])
    if clip is not None:
      speech = background.set_level_db(np.asarray(clip, np.float32), rng.uniform(*speech_level_db))
      pieces.append(speech + sampler.bed(rng, speech.shape[0]))
  return np.clip(np.concatenate(pieces), -1.0, 1.0).astype(np.float32)


def split_seed(seed: int, split: str) -> list[int]:
  return [int(seed), zlib.crc32(split.encode())]


def fsdd_speaker_clips(source_dir: str, sample_rate: int, test_speakers: Sequence[str],
                       validation_speakers: Sequence[str], skip_corrupt: bool = False
                       ) -> dict[str, list[np.ndarray]]:
  """FSDD clips by split, holding out speakers: `{split: [wave float32 [T_i]]}` sorted by name."""
  paths = audio_io.list_audio_files(source_dir, (".wav",))
  if not paths:
    raise FileNotFoundError(f"No FSDD recordings in {source_dir}: set config.data.source_dir to a "
                            "directory of {digit}_{speaker}_{index}.wav files.")
  speakers = {p: fsdd.parse_name(p)[1] for p in paths}
  fsdd.check_held_out_speakers(speakers.values(), test_speakers, validation_speakers,
                               require_validation=True)
  waves, _ = audio_io.read_many(paths, sample_rate, skip_corrupt, "FSDD recordings")
  out = {s: [] for s in SPLITS}
  for path, wave in waves:
    out[fsdd.clip_split(speakers[path], 0, "speaker_held_out", test_speakers,
                        validation_speakers)].append(wave)
  return out


def fsdd_streams(data_config) -> AudioCropDataset:
  """FSDD as always-on streams with speaker-held-out splits (see the module docstring)."""
  rate = int(data_config.sample_rate)
  source_dir = data_config.source_dir or fsdd.default_source_dir()
  clips = fsdd_speaker_clips(source_dir, rate, data_config.test_speakers,
                             data_config.validation_speakers, data_config.skip_corrupt)
  dirs = [d for d in data_config.background_dirs if d and os.path.isdir(d)]
  real = background.load_real_background(dirs, rate) if dirs else {}
  streams = {}
  for split in SPLITS:
    rng = np.random.default_rng(split_seed(data_config.split_seed, split))
    order = rng.permutation(len(clips[split]))
    sampler = background.BackgroundSampler(
        real=real.get(split, []), weights=dict(data_config.background_weights),
        noise_level_db=tuple(data_config.noise_level_db), bed_noise_db=data_config.bed_noise_db)
    streams[split] = join_with_pauses(
        [clips[split][i] for i in order], rng, sampler, tuple(data_config.pause_seconds),
        tuple(data_config.speech_level_db), rate, data_config.long_pause_prob,
        tuple(data_config.long_pause_seconds))
  return AudioCropDataset("fsdd_streams", streams, rate, data_config.crop_seconds,
                          data_config.eval_crop_seconds, **train_level_args(data_config))


def train_level_args(data_config) -> dict:
  """`AudioCropDataset`'s training-crop level arguments from `config.data.train_level_db`
  (dBFS; None or absent: crops as recorded) and `config.data.train_max_gain_db`."""
  level = data_config.get("train_level_db", None)
  return {"train_level_db": None if level is None else float(level),
          "train_max_gain_db": float(data_config.get("train_max_gain_db", 20.0))}
