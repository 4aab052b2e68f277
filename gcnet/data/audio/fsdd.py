"""The Free Spoken Digit Dataset (FSDD) as a TFDS dataset and as the gcnet dataset "fsdd".

`FsddBuilder` turns a directory of FSDD-style WAVs, `{digit}_{speaker}_{index}.wav`, into an
`array_record` TFDS dataset (no TensorFlow): variable-length int16 audio at `sample_rate` (any input
rate is resampled), digit, speaker and take index. Its splits are the official ones: takes 0-4 are
"test", 5-49 "train". Without a local directory it downloads the archive TFDS `spoken_digit` uses.

`fsdd(config.data)` then picks the experiment's splits from those clips (`config.data.split`):

- "official": test = takes 0-4; validation = `validation_fraction` of the train takes, drawn per
  (speaker, digit) with `split_seed`; train = the rest.
- "speaker_held_out": test = `test_speakers`; validation = `validation_speakers` (held out as well,
  so theta is calibrated on unseen voices like the test's), or, when empty, a stratified carve of
  the remaining speakers; train = the remaining speakers.

Every split then gets background windows (see `gcnet.data.audio.kws_dataset`), source label 10.
"""

import hashlib
import logging
import os
import re

from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from gcnet.audio import audio_io
from gcnet.data.audio import background as bg
from gcnet.data.audio import kws_dataset
from gcnet.data.audio import negatives
from gcnet.data.audio import synth_voices

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
BACKGROUND_SOURCE_LABEL = len(DIGIT_NAMES)
NUM_OFFICIAL_TEST_TAKES = 5
# The archive the official TFDS `spoken_digit` builder downloads (same recordings).
DOWNLOAD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/v1.0.9.tar.gz"
_NAME = re.compile(r"^(\d)_([A-Za-z][A-Za-z0-9-]*)_(\d+)\.wav$")
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def default_source_dir() -> str:
  """`../shared/data/fsdd/recordings` beside the repository, or "" if it does not exist."""
  path = os.path.join(os.path.dirname(_REPO_ROOT), "shared", "data", "fsdd", "recordings")
  return path if os.path.isdir(path) else ""


def default_data_dir() -> str:
  return os.environ.get("TFDS_DATA_DIR") or os.path.expanduser("~/tensorflow_datasets")


def parse_name(path: str) -> tuple[int, str, int]:
  """`.../{digit}_{speaker}_{index}.wav` -> `(digit, speaker, index)`; ValueError names it."""
  m = _NAME.match(os.path.basename(path))
  if not m:
    raise ValueError(f"FSDD file {path} is not named {{digit}}_{{speaker}}_{{index}}.wav.")
  return int(m.group(1)), m.group(2), int(m.group(3))


def check_held_out_speakers(speakers, test_speakers, validation_speakers,
                            require_validation: bool = False) -> None:
  """ValueError unless the held-out speakers are known, disjoint, with a test speaker (and a
  validation speaker if `require_validation`), and leave a training speaker."""
  test, validation = tuple(test_speakers), tuple(validation_speakers)
  unknown = sorted(set(test + validation) - set(speakers))
  if (unknown or not test or (require_validation and not validation)
      or set(test) & set(validation) or len(set(test + validation)) < len(test + validation)):
    raise ValueError(f"Bad held-out speakers test={test}, validation={validation}: they must be "
                     f"disjoint, test non-empty{', validation non-empty' * require_validation}, "
                     f"all among {sorted(set(speakers))} (unknown: {unknown}).")
  if len(set(test + validation)) >= len(set(speakers)):
    raise ValueError(f"Holding out {test + validation} leaves no training speaker.")


def clip_split(speaker: str, take: int, split: str, test_speakers=(),
               validation_speakers=()) -> str:
  """The split of one clip: "official" (`config.data.split`): takes 0-4 "test", the others
  "train"; "speaker_held_out": the test speakers' clips "test", the validation speakers'
  "validation", the others "train"."""
  if split == "official":
    return "test" if take < NUM_OFFICIAL_TEST_TAKES else "train"
  if split == "speaker_held_out":
    return ("test" if speaker in test_speakers else
            "validation" if speaker in validation_speakers else "train")
  raise ValueError(f"Unknown config.data.split={split!r}; use 'official' or 'speaker_held_out'.")


def source_fingerprint(paths) -> str:
  """A hash of the file names and sizes (detects a prepared dataset built from other files)."""
  h = hashlib.sha1()
  for p in sorted(paths, key=os.path.basename):
    h.update(f"{os.path.basename(p)}:{os.path.getsize(p)};".encode())
  return h.hexdigest()


class FsddBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """TFDS builder of FSDD clips from local WAVs (or the official archive when online)."""

  name = "gcnet_fsdd"
  code_path = epath.Path(__file__)  # TFDS's own lookup of a builder's code needs extra packages
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Clips at a configurable sample rate; official train/test splits."}
  BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=f"sr{r}", description=f"FSDD clips at {r} Hz")
                     for r in (8000, 16000)]

  def __init__(self, *, source_dir: str = "", sample_rate: int = 8000, skip_corrupt: bool = False,
               **kwargs):
    self._source_dir = source_dir
    self._sample_rate = int(sample_rate)
    self._skip_corrupt = skip_corrupt
    config = next((c for c in self.BUILDER_CONFIGS if c.name == f"sr{self._sample_rate}"),
                  tfds.core.BuilderConfig(name=f"sr{self._sample_rate}",
                                          description=f"FSDD clips at {self._sample_rate} Hz"))
    super().__init__(config=config, file_format="array_record", **kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description="Free Spoken Digit Dataset: 6 speakers x 10 digits x 50 takes (CC BY-SA 4.0).",
        features=tfds.features.FeaturesDict({
            "audio": tfds.features.Tensor(shape=(None,), dtype=np.int16),
            "digit": tfds.features.Tensor(shape=(), dtype=np.int32),
            "speaker": tfds.features.Text(),
            "index": tfds.features.Tensor(shape=(), dtype=np.int32),
        }),
        homepage="https://github.com/Jakobovski/free-spoken-digit-dataset",
        metadata=tfds.core.MetadataDict())

  def _split_generators(self, dl_manager):
    directory = self._source_dir
    if not directory:
      extracted = dl_manager.download_and_extract(DOWNLOAD_URL)
      found = [r for r, _, files in os.walk(extracted) if any(_NAME.match(f) for f in files)]
      if not found:
        raise FileNotFoundError(f"No FSDD recordings in the download {extracted}.")
      directory = found[0]
    paths = audio_io.list_audio_files(directory, (".wav",))
    if not paths:
      raise FileNotFoundError(
          f"No WAV files in the FSDD source directory {directory}. Fix: put the FSDD recordings "
          "({digit}_{speaker}_{index}.wav) there, or point --config.data.source_dir at them.")
    named, bad_names = [], []
    for p in paths:
      try:
        named.append((p,) + parse_name(p))
      except ValueError:
        if not self._skip_corrupt:
          raise
        bad_names.append(p)
    loaded, skipped = audio_io.read_many([n[0] for n in named], self._sample_rate,
                                         self._skip_corrupt, what="FSDD clips")
    waves = dict(loaded)
    self.info.metadata["source_fingerprint"] = source_fingerprint(paths)
    self.info.metadata["skipped"] = [os.path.basename(p) for p in bad_names + skipped]
    items = [(p, d, s, i, waves[p]) for p, d, s, i in named if p in waves]
    return {
        "train": self._generate_examples([x for x in items if x[3] >= NUM_OFFICIAL_TEST_TAKES]),
        "test": self._generate_examples([x for x in items if x[3] < NUM_OFFICIAL_TEST_TAKES]),
    }

  def _generate_examples(self, items):
    for path, digit, speaker, index, wave in items:
      yield os.path.basename(path), {"audio": audio_io.to_int16(wave), "digit": digit,
                                     "speaker": speaker, "index": index}


def load_clips(source_dir: str, data_dir: str, sample_rate: int = 8000,
               skip_corrupt: bool = False) -> dict[str, np.ndarray]:
  """Prepares (once) and reads every clip; returns a table of arrays, one row per clip.

  Returns:
    `{"audio": object [N] of int16 [T_i], "digit": int32 [N], "speaker": str [N],
    "index": int32 [N]}`, sorted by (speaker, digit, index).
  Raises:
    AudioReadError: a prepared dataset skipped unreadable files but `skip_corrupt` is False.
    ValueError: the prepared dataset was built from different files than `source_dir` holds.
  """
  builder = FsddBuilder(source_dir=source_dir, sample_rate=sample_rate, skip_corrupt=skip_corrupt,
                        data_dir=data_dir)
  builder.download_and_prepare()
  meta = builder.info.metadata or {}
  skipped = list(meta.get("skipped", []))
  if skipped:
    if not skip_corrupt:
      raise audio_io.AudioReadError(
          os.path.join(source_dir, skipped[0]), f"skipped when {builder.data_dir} was prepared "
          f"with skip_corrupt=True ({len(skipped)} files); fix or delete it, or set "
          "config.data.skip_corrupt=True")
    logging.warning("FSDD at %s: %d unreadable files were skipped.", builder.data_dir, len(skipped))
  if source_dir and meta.get("source_fingerprint"):
    current = source_fingerprint(audio_io.list_audio_files(source_dir, (".wav",)))
    if current != meta["source_fingerprint"]:
      raise ValueError(f"The prepared FSDD dataset {builder.data_dir} was built from other files "
                       f"than {source_dir} holds now; delete {builder.data_dir} to rebuild it.")
  rows = []
  for source in builder.as_data_source().values():
    rows.extend(source.__getitems__(list(range(len(source)))))
  rows.sort(key=lambda r: (_text(r["speaker"]), int(r["digit"]), int(r["index"])))
  audio = np.empty(len(rows), object)
  audio[:] = [np.asarray(r["audio"], np.int16) for r in rows]
  return {"audio": audio,
          "digit": np.array([r["digit"] for r in rows], np.int32),
          "speaker": np.array([_text(r["speaker"]) for r in rows]),
          "index": np.array([r["index"] for r in rows], np.int32)}


def split_clips(clips: dict[str, np.ndarray], data_config) -> dict[str, np.ndarray]:
  """Rows of `clips` in each split: `{"train", "validation", "test"} -> int64 [n]` (disjoint)."""
  test_spk, val_spk = tuple(data_config.test_speakers), tuple(data_config.validation_speakers)
  if data_config.split == "speaker_held_out":
    check_held_out_speakers(clips["speaker"].tolist(), test_spk, val_spk)
  names = np.array([clip_split(s, i, data_config.split, test_spk, val_spk)
                    for s, i in zip(clips["speaker"].tolist(), clips["index"].tolist())])
  test, validation = names == "test", names == "validation"
  if not validation.any():
    validation = _stratified_carve(clips, ~test, data_config.validation_fraction,
                                   data_config.split_seed)
  train = ~(test | validation)
  return {name: np.flatnonzero(mask) for name, mask in
          (("train", train), ("validation", validation), ("test", test))}


def _stratified_carve(clips, pool: np.ndarray, fraction: float, seed: int) -> np.ndarray:
  """A mask of about `fraction` of each (speaker, digit) group within `pool`, drawn with `seed`."""
  if not 0.0 <= fraction < 1.0:
    raise ValueError(f"validation_fraction must be in [0, 1); got {fraction}.")
  rng = np.random.default_rng(seed)
  chosen = np.zeros(pool.shape, bool)
  for speaker in sorted(set(clips["speaker"][pool].tolist())):
    for digit in range(len(DIGIT_NAMES)):
      rows = np.flatnonzero(pool & (clips["speaker"] == speaker) & (clips["digit"] == digit))
      take = int(np.floor(fraction * rows.size + 0.5))
      chosen[rng.permutation(rows)[:take]] = True
  return chosen


def fsdd(data_config) -> kws_dataset.KwsDataset:
  """The gcnet dataset "fsdd": keyword windows of FSDD digits plus background (see module doc)."""
  audio_io.check_sample_rate(data_config.sample_rate)
  if data_config.source_dir and not os.path.isdir(data_config.source_dir):
    raise FileNotFoundError(
        f"config.data.source_dir={data_config.source_dir!r} does not exist or is not a directory. "
        "Fix: point --config.data.source_dir at a directory of FSDD recordings named "
        "{digit}_{speaker}_{index}.wav (e.g. ../shared/data/fsdd/recordings), or set it to '' "
        "for the default location.")
  source_dir = data_config.source_dir or default_source_dir()
  if not source_dir and not _online():
    raise FileNotFoundError(
        "No FSDD recordings: set config.data.source_dir to a directory of {digit}_{speaker}_"
        "{index}.wav files (e.g. ../shared/data/fsdd/recordings); the download fallback needs "
        "internet access.")
  clips = load_clips(source_dir, data_config.data_dir or default_data_dir(),
                     data_config.sample_rate, data_config.skip_corrupt)
  rows = split_clips(clips, data_config)
  gains = (speaker_gains(clips, data_config.speaker_level_db)
           if data_config.get("speaker_level_norm") else np.ones(len(clips["digit"]), np.float32))
  by_split = {s: (_Clips(clips["audio"][r], gains[r]), clips["digit"][r])
              for s, r in rows.items()}
  engines = tuple(data_config.get("synthetic_voices", {}).get("engines", ()))
  if engines:
    by_split["train"] = with_synthetic_voices(by_split["train"], engines, data_config)
  logging.info("FSDD (%s split): %s clips.", data_config.split,
               ", ".join(f"{s} {len(c[1])}" for s, c in by_split.items()))
  return kws_dataset.KwsDataset(
      "fsdd", word_names=DIGIT_NAMES, data_config=data_config, clips=by_split,
      real_background=kws_dataset.real_background_from_config(data_config))


def speaker_gains(clips: dict[str, np.ndarray], level_db: float) -> np.ndarray:
  """float32 `[N]`: one gain per speaker, so that the speaker's median clip RMS is `level_db`."""
  rms = np.array([bg.rms_db(audio_io.from_int16(a)) for a in clips["audio"]])
  gains = np.ones(rms.shape, np.float32)
  for speaker in sorted(set(clips["speaker"].tolist())):
    rows = clips["speaker"] == speaker
    gains[rows] = 10.0 ** ((level_db - float(np.median(rms[rows]))) / 20.0)
  return gains


def with_synthetic_voices(train, engines, data_config):
  """`(get_clip, digits)` of the training split plus every digit in every synthetic voice of
  `engines` (`synth_voices`), at the split's level (`speaker_level_db`, else -26 dBFS)."""
  get_clip, digits = train
  cache = (data_config.synthetic_voices.get("cache_dir") or
           os.path.join(os.path.dirname(negatives.default_cache_dir()), "synth_voices"))
  synth = synth_voices.load_words(DIGIT_NAMES, engines, cache, data_config.sample_rate)
  level = data_config.get("speaker_level_db", -26.0)
  waves = [bg.set_level_db(w, level) for _, _, w in synth]
  labels = np.array([DIGIT_NAMES.index(word) for word, _, _ in synth], np.int32)
  logging.info("Synthetic voices %s: %d clips added to train.", engines, len(waves))
  return _Joined(get_clip, len(digits), waves), np.concatenate([np.asarray(digits), labels])


class _Clips:
  """`i -> float32 [T_i]` over int16 clips in memory (a class, so Grain workers can pickle it),
  each times its gain."""

  def __init__(self, audio: np.ndarray, gains: np.ndarray | None = None):
    self._audio = audio
    self._gains = gains

  def __call__(self, i: int) -> np.ndarray:
    wave = audio_io.from_int16(self._audio[i])
    return wave if self._gains is None else np.clip(wave * self._gains[i], -1.0, 1.0)


class _Joined:
  """Clips `0..n-1` from `first`, then the float32 `extra` waves."""

  def __init__(self, first, n: int, extra):
    self._first, self._n, self._extra = first, int(n), list(extra)

  def __call__(self, i: int) -> np.ndarray:
    return self._first(i) if i < self._n else self._extra[i - self._n]


def _text(value) -> str:
  return value.decode() if isinstance(value, bytes) else str(value)


def _online(host: str = "github.com", timeout: float = 3.0) -> bool:
  import socket  # pylint: disable=g-import-not-at-top
  try:
    socket.create_connection((host, 443), timeout=timeout).close()
    return True
  except OSError:
    return False
