"""The speech corpus (`speech_corpus`) as always-on streams for codec training, held out by speaker.

`speech_streams(config.data)` is the gcnet dataset "speech_streams": an `AudioCropDataset` whose
training stream joins the clips of every training speaker (all languages mixed, in a seeded random
order) with pauses of background, like `fsdd_streams`. Validation and test hold out whole speakers
(`validation_speakers`, `test_speakers`, names of `speech_corpus.SPEAKER_NAMES`): each held-out
speaker is its own stream, the part `"<split>/<speaker>"`, and the split's stream is its parts
joined in order, so quality is reported per held-out speaker (`AudioCropDataset.parts`).

Default hold-out (experiments/codec_dsl.py): test = ru_ivrvoice (the only Russian speaker) and
fsdd_theo; validation = fr_armelle (the only French speaker) and fsdd_nicolas; training = the two
Spanish, the two Italian and four FSDD speakers (about 103 minutes of speech).
"""

import logging

import numpy as np

from gcnet.audio import audio_io
from gcnet.data.audio import codec_streams
from gcnet.data.audio import fsdd
from gcnet.data.audio import speech_corpus


def check_speakers(train, validation, test) -> None:
  """ValueError unless the three lists are known, disjoint, and none is empty."""
  groups = {"train": tuple(train), "validation": tuple(validation), "test": tuple(test)}
  names = [n for g in groups.values() for n in g]
  unknown = sorted(set(names) - set(speech_corpus.SPEAKER_NAMES))
  empty = [k for k, g in groups.items() if not g]
  if unknown or empty or len(set(names)) < len(names):
    raise ValueError(f"Bad speaker split {groups}: each list non-empty, the lists disjoint, every "
                     f"name among {speech_corpus.SPEAKER_NAMES} (unknown: {unknown}, empty: "
                     f"{empty}). Fix config.data.train_speakers / validation_speakers / "
                     "test_speakers.")


def train_speakers(data_config, available) -> tuple[str, ...]:
  """`config.data.train_speakers`, or (when empty) every speaker of `available` not held out."""
  chosen = tuple(data_config.get("train_speakers", ()) or ())
  held = set(data_config.validation_speakers) | set(data_config.test_speakers)
  return chosen or tuple(n for n in speech_corpus.SPEAKER_NAMES
                         if n in available and n not in held)


def speech_streams(data_config) -> codec_streams.AudioCropDataset:
  """The gcnet dataset "speech_streams" (module docstring)."""
  rate = audio_io.check_sample_rate(data_config.sample_rate)
  clips = speech_corpus.load_speakers(
      data_config.get("data_dir", "") or fsdd.default_data_dir(), rate,
      data_config.get("asterisk_root", "") or speech_corpus.ASTERISK_ROOT,
      data_config.source_dir or fsdd.default_source_dir())
  train = train_speakers(data_config, clips)
  check_speakers(train, data_config.validation_speakers, data_config.test_speakers)
  missing = sorted((set(train) | set(data_config.validation_speakers)
                    | set(data_config.test_speakers)) - set(clips))
  if missing:
    raise ValueError(f"Speakers {missing} are not in the prepared corpus (it holds {sorted(clips)}).")
  waves = {k: [audio_io.from_int16(x) for x in v] for k, v in clips.items()}
  real = codec_streams.real_background(data_config)
  streams = {"train": codec_streams.clip_stream(
      [w for name in train for w in waves[name]], data_config, real.get("train", []), "train")}
  for split, speakers in (("validation", data_config.validation_speakers),
                          ("test", data_config.test_speakers)):
    parts = [codec_streams.clip_stream(waves[name], data_config, real.get(split, []),
                                       f"{split}/{name}") for name in speakers]
    streams.update({f"{split}/{name}": p for name, p in zip(speakers, parts)})
    streams[split] = np.concatenate(parts)
  logging.info("speech_streams: %s", ", ".join(
      f"{k} {v.shape[0] / rate:.0f} s" for k, v in streams.items()))
  return codec_streams.AudioCropDataset("speech_streams", streams, rate, data_config.crop_seconds,
                                        data_config.eval_crop_seconds,
                                        **codec_streams.train_level_args(data_config))
