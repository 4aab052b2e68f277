"""The DSL codec at 24 kHz ("base" size, SoundStream's rate) on your own corpus, e.g. LibriTTS.

Any directory tree of WAV / FLAC / Ogg files works (`gcnet/data/audio/wav_dir.py`); files are resampled
to 24 kHz. With `split_by="folder"` the top-level folders (LibriTTS: speakers) are held out whole.
The arg picks the variant as in `codec_dsl.py` (`dsl`, `dsl_budget<rho>`, `heavy`, `light`,
`runlocal`).

  python -m gcnet.cli.train --config=experiments/codec_dsl_24khz.py:dsl_budget0.2 \
      --config.data.source_dir=/data/LibriTTS/train-clean-100 --workdir=runs/codec24_dsl
  # 16 kHz corpora: --config.data.sample_rate=16000 (the codec follows the data's rate)
"""

import ml_collections as mlc

from experiments import codec_dsl
from experiments import common


def wav_dir_data_config(sample_rate: int = 24000) -> mlc.ConfigDict:
  data = mlc.ConfigDict()
  data.name = "wav_dir"
  data.source_dir = ""                # required: a directory of audio files
  data.sample_rate = sample_rate
  data.crop_seconds = 1.0
  data.eval_crop_seconds = 2.0
  data.split_by = "folder"            # "folder": hold out top-level folders; "file": files
  data.test_fraction = 0.1
  data.validation_fraction = 0.05
  data.max_files = 0                  # per split; 0: all
  data.gap_seconds = 0.0              # zeros between joined files
  data.skip_corrupt = False
  data.worker_count = 0
  return data


def get_config(arg: str = "") -> mlc.ConfigDict:
  config = codec_dsl.build_config(arg, "codec_dsl_24khz", wav_dir_data_config(), "base")
  config.model.sample_rate = config.data.get_ref("sample_rate")
  config.eval.pesq = True             # wide-band PESQ (resampled to 16 kHz)
  if config.get("runlocal", False):
    config.data.sample_rate = 8000    # the tiny codec, on any small directory
  else:
    config.train.num_steps = 100000
    config.train.batch_size = 32
    config.train.learning_rate = 3e-4
    config.train.warmup_steps = 1000
    config.checkpoint.every_steps = 2000
  return common.lock(config)


get_sweep = codec_dsl.get_sweep
