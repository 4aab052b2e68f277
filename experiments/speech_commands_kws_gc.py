"""GC keyword spotting on the official TFDS Speech Commands (12 classes, 16 kHz), for users who have
it prepared in array_record format (see gcnet/data/audio/speech_commands.py); it cannot be built offline.

Keywords "yes", "no", "stop" vs the other words, `_unknown_`, `_silence_` and generated background.

  python -m gcnet.cli.train --config=experiments/speech_commands_kws_gc.py --workdir=runs/sc_kws_gc \
      --config.data.data_dir=/path/to/tensorflow_datasets
"""

import ml_collections as mlc

from experiments import audio_common
from experiments import common

KEYWORDS = (9, 3, 7)  # "yes", "no", "stop" (ids in the TFDS label order)


def get_config(arg: str = "") -> mlc.ConfigDict:
  config = common.base_config()
  config.experiment = "speech_commands_kws_gc"
  config.data = audio_common.kws_data_config("speech_commands", KEYWORDS, sample_rate=16000)
  for fsdd_only in ("split", "test_speakers", "validation_speakers", "validation_fraction",
                    "skip_corrupt", "source_dir"):
    del config.data[fsdd_only]  # the official splits are used as they are
  config.data.background_fraction = 0.1
  config.model = audio_common.kws_model_config(gated=True, data=config.data)
  config.loss.terms = {"gate_bce": 1.0, "compression_l1": 0.5}
  config.train.num_steps = 30000
  config.train.batch_size = 256
  config.eval.batch_size = 512
  common.apply_arg(config, arg)
  return common.lock(config)


def get_sweep(hyper):
  """The GC loss weights sweep (alpha, beta)."""
  return common.gc_loss_sweep(hyper)
