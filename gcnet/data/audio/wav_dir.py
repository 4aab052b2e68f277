"""`wav_dir`: train a codec on your own audio, any directory tree of WAV / FLAC / Ogg files.

Every file is read as mono float32 and resampled to `config.data.sample_rate`. Files are assigned to
test / validation / train by a stable hash (CRC-32) of either their path relative to `source_dir`
(`split_by="file"`) or their top-level folder (`split_by="folder"`: e.g. LibriTTS
`train-clean-100/<speaker>/...` laid out as `<speaker>/...` holds out whole speakers). The files of a
split, in hash order, are joined into one stream and cut into fixed-length crops
(`codec_streams.AudioCropDataset`).

    --config.data.name=wav_dir --config.data.source_dir=/path/to/wavs --config.data.sample_rate=24000
"""

import logging
import os
import zlib
from typing import Sequence

import numpy as np

from gcnet.audio import audio_io
from gcnet.data.audio import codec_streams
from gcnet.data.audio.codec_streams import AudioCropDataset
from gcnet.data.contract import SPLITS

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga")


def find_audio_files(root: str, extensions: Sequence[str] = AUDIO_EXTENSIONS) -> list[str]:
  """Audio files anywhere under `root`, sorted by relative path."""
  if not os.path.isdir(root):
    raise FileNotFoundError(f"Audio directory {root} does not exist (config.data.source_dir).")
  files = []
  for folder, dirs, names in os.walk(root, followlinks=True):
    dirs.sort()
    files.extend(os.path.join(folder, n) for n in sorted(names)
                 if n.lower().endswith(tuple(extensions)))
  return sorted(files, key=lambda p: os.path.relpath(p, root))


def split_key(path: str, root: str, split_by: str) -> str:
  """The string a file's split is hashed from: its relative path, or its top-level folder."""
  rel = os.path.relpath(path, root)
  if split_by == "file":
    return rel
  if split_by == "folder":
    parts = rel.split(os.sep)
    return parts[0] if len(parts) > 1 else rel
  raise ValueError(f"Unknown split_by {split_by!r}; use 'file' or 'folder'.")


def assign_splits(keys: Sequence[str], test_fraction: float, validation_fraction: float
                  ) -> dict[str, str]:
  """key -> split. Keys ranked by CRC-32: the first `test_fraction` (at least one) are test, the
  next `validation_fraction` (at least one) validation, the rest train. Fewer than 3 distinct keys:
  every split uses every key (logged), so a tiny directory still trains and evaluates."""
  unique = sorted(set(keys), key=lambda k: (zlib.crc32(k.encode()), k))
  n = len(unique)
  if n < 3:
    logging.warning("wav_dir: only %d split keys; train, validation and test all use every file.",
                    n)
    return {k: "all" for k in unique}
  num_test = max(1, int(round(test_fraction * n)))
  num_val = max(1, int(round(validation_fraction * n)))
  if num_test + num_val >= n:
    raise ValueError(f"test_fraction={test_fraction} and validation_fraction="
                     f"{validation_fraction} leave no training files among {n}.")
  return {k: "test" if r < num_test else "validation" if r < num_test + num_val else "train"
          for r, k in enumerate(unique)}


def load_split_streams(root: str, sample_rate: int, split_by: str = "file",
                       test_fraction: float = 0.1, validation_fraction: float = 0.05,
                       max_files: int = 0, skip_corrupt: bool = False, gap_seconds: float = 0.0
                       ) -> dict[str, np.ndarray]:
  """`{split: float32 [N]}`: the split's files resampled and joined (with `gap_seconds` of zeros).

  `max_files > 0` reads only the first `max_files` files of each split (in hash order).
  """
  paths = find_audio_files(root)
  if not paths:
    raise FileNotFoundError(f"No audio files ({', '.join(AUDIO_EXTENSIONS)}) under {root}.")
  keys = {p: split_key(p, root, split_by) for p in paths}
  table = assign_splits(list(keys.values()), test_fraction, validation_fraction)
  by_split = {s: [] for s in SPLITS}
  for p in sorted(paths, key=lambda p: (zlib.crc32(p.encode()), p)):
    split = table[keys[p]]
    for s in (SPLITS if split == "all" else (split,)):
      by_split[s].append(p)
  gap = np.zeros(int(gap_seconds * sample_rate), np.float32)
  streams = {}
  for split, files in by_split.items():
    files = files[:max_files] if max_files > 0 else files
    waves, _ = audio_io.read_many(files, sample_rate, skip_corrupt, f"{split} audio files")
    pieces = [x for _, w in waves for x in (w, gap)]
    streams[split] = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
  return streams


def wav_dir(data_config) -> AudioCropDataset:
  """Crops of the audio under `config.data.source_dir` at `config.data.sample_rate`."""
  if not data_config.source_dir:
    raise ValueError("Dataset 'wav_dir' needs config.data.source_dir (a directory of audio files).")
  streams = load_split_streams(
      data_config.source_dir, int(data_config.sample_rate), data_config.get("split_by", "file"),
      data_config.get("test_fraction", 0.1), data_config.get("validation_fraction", 0.05),
      data_config.get("max_files", 0), data_config.get("skip_corrupt", False),
      data_config.get("gap_seconds", 0.0))
  return AudioCropDataset("wav_dir", streams, data_config.sample_rate, data_config.crop_seconds,
                          data_config.get("eval_crop_seconds", None),
                          **codec_streams.train_level_args(data_config))
