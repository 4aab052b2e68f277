"""The official TFDS `speech_commands` (v0.02, 12 classes) as the gcnet dataset "speech_commands".

For users who have it prepared in `array_record` format, e.g. on a machine with TensorFlow:

    tfds.builder("speech_commands", data_dir=D, file_format="array_record").download_and_prepare()

It cannot be built here (no internet, and its `Audio` feature needs TensorFlow to encode). Reading
needs no TensorFlow: the audio feature is read undecoded (WAV bytes) and decoded with `soundfile`.
The official train / validation / test splits are used as they are; background windows are added as
for FSDD (source label 12), on top of the dataset's own `_silence_` clips.
"""

import io
import logging
from typing import Any, Callable, Sequence

import numpy as np

from gcnet.audio import audio_io
from gcnet.data.audio import kws_dataset
from gcnet.data import contract

TFDS_NAME = "speech_commands"
SAMPLE_RATE = 16000
WORDS = ("down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "_silence_",
         "_unknown_")


def decode_audio(value: Any, sample_rate: int) -> np.ndarray:
  """A record's audio (WAV bytes or an int16 array at 16 kHz) -> float32 `[T]` at `sample_rate`."""
  if isinstance(value, (bytes, np.bytes_)):
    import soundfile  # pylint: disable=g-import-not-at-top  (optional dependency)
    wave, rate = soundfile.read(io.BytesIO(bytes(value)), dtype="float32", always_2d=True)
    wave = wave.mean(axis=1)
  else:
    wave, rate = audio_io.from_int16(np.asarray(value, np.int16)), SAMPLE_RATE
  return audio_io.resample(wave, rate, sample_rate)


def open_tfds_split(split: str, data_dir: str | None) -> Sequence[dict]:
  """The official split as a random-access TFDS data source, audio left undecoded."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  try:
    return tfds.data_source(TFDS_NAME, split=split, data_dir=data_dir,
                            decoders={"audio": tfds.decode.SkipDecoding()})
  except Exception as e:  # TFDS raises several types for a missing or TFRecord-only dataset.
    raise FileNotFoundError(
        f"TFDS {TFDS_NAME!r} is not prepared in array_record format under "
        f"{data_dir or '$TFDS_DATA_DIR'}; prepare it where TensorFlow and internet are available "
        f"(see gcnet/data/audio/speech_commands.py). Cause: {type(e).__name__}: {e}") from e


def build(data_config, open_split: Callable[[str, str | None], Sequence[dict]] = open_tfds_split
          ) -> kws_dataset.KwsDataset:
  """Builds the dataset from `open_split(split, data_dir)` sources (injectable for tests)."""
  data_dir = data_config.data_dir or None
  rate = audio_io.check_sample_rate(data_config.sample_rate)
  clips = {}
  for split in contract.SPLITS:
    raw = open_split(split, data_dir)
    labels = np.array([int(raw[i]["label"]) for i in range(len(raw))], np.int32)
    clips[split] = (_Clips(raw, rate), labels)
    logging.info("speech_commands %s: %d clips.", split, len(labels))
  return kws_dataset.KwsDataset(
      "speech_commands", word_names=WORDS, data_config=data_config, clips=clips,
      real_background=kws_dataset.real_background_from_config(data_config))


class _Clips:
  """`i -> float32 [T_i]` decoded from a raw source (a class, so Grain workers can pickle it)."""

  def __init__(self, raw: Sequence[dict], sample_rate: int):
    self._raw, self._rate = raw, sample_rate

  def __call__(self, i: int) -> np.ndarray:
    return decode_audio(self._raw[i]["audio"], self._rate)

