"""Config pieces shared by the keyword-spotting experiments (FSDD, Speech Commands)."""

import os

import ml_collections as mlc

from gcnet.data.audio import negatives

# Real background sounds of Debian's `sound-theme-freedesktop` (apt-get install it to use them).
SOUND_THEME_DIR = "/usr/share/sounds/freedesktop/stereo"


def kws_data_config(name: str, positive_classes, sample_rate: int = 8000) -> mlc.ConfigDict:
  """Data config of a keyword-spotting dataset (see gcnet/data/audio/kws_dataset.py and fsdd.py)."""
  data = mlc.ConfigDict()
  data.name = name
  data.source_dir = ""            # raw clips; "" -> the dataset's default location
  data.data_dir = ""              # prepared TFDS; "" -> $TFDS_DATA_DIR or ~/tensorflow_datasets
  data.positive_classes = tuple(positive_classes)   # word ids -> labels 0..K-1; the rest -> K
  data.sample_rate = sample_rate  # Hz; clips of any rate are resampled to it
  data.window_seconds = 1.0       # every example is one window of this length
  data.split = "official"         # FSDD: "official" (takes 0-4 test) or "speaker_held_out"
  data.test_speakers = ("theo",)
  data.validation_speakers = ("nicolas",)  # held out too; () -> carve validation from train
  data.validation_fraction = 0.1  # of each (speaker, digit) group when carving from train
  data.split_seed = 0
  data.skip_corrupt = False       # True: skip unreadable files (counted and logged)
  data.background_fraction = 0.2  # of each split: windows of silence, noise or real sounds
  data.background_weights = mlc.ConfigDict(dict(silence=0.2, noise=0.4, real=0.4))
  # Directories of real background audio; assigned to splits by file (see gcnet/data/audio/background.py).
  data.background_dirs = ("",)
  # Real negatives from Debian packages, training and evaluation sources apart
  # (gcnet/data/audio/negatives.py; `make setup` installs the packages). {} for none.
  data.negative_sources = mlc.ConfigDict(dict(train=negatives.TRAIN_SOURCES,
                                              eval=negatives.EVAL_SOURCES))
  data.negatives_cache_dir = ""   # synthesized words; "" -> ~/.cache/gcnet/negatives
  data.noise_level_db = (-60.0, -25.0)   # RMS dBFS range of noise and real background
  data.bed_noise_db = -70.0              # faint white noise under every window (<= -120: zeros)
  # Level of the bed in silence windows, drawn uniformly (dBFS; the low end <= -120 gives some
  # digital silence): (-70, -70) is issue 14's fixed bed.
  data.silence_level_db = (-70.0, -70.0)
  # Synthetic voices speaking every digit, added to the training split only
  # (gcnet/data/audio/synth_voices.py): engines among ("espeak", "flite", "festival"); () for none.
  data.synthetic_voices = mlc.ConfigDict(dict(engines=(), cache_dir=""))
  # Per-speaker level normalisation: every speaker's clips are scaled by one gain so that the
  # speaker's median clip RMS is `speaker_level_db` dBFS (each split, the test speaker from its
  # own clips: no label is used). False: off.
  data.speaker_level_norm = False
  data.speaker_level_db = -26.0
  # Speaker-robust augmentation (gcnet/data/audio/augment.py): speed (resample_poly) or pitch
  # (audiomentations) variants, gain, shift, simulated-room reverberation (pyroomacoustics) and
  # background mixed at an SNR; SpecAugment masks are the model's (model.spec_augment).
  data.augment = mlc.ConfigDict(dict(
      enabled=True, shift=True, gain_db=(-10.0, 10.0), noise_prob=0.6, snr_db=(0.0, 20.0),
      speeds=(0.85, 0.92, 1.08, 1.15), semitones=(-3.0, -1.5, 1.5, 3.0), perturb_prob=0.6,
      reverb_prob=0.3, num_rirs=32))
  data.worker_count = 0
  return data


def kws_model_config(gated: bool, data: mlc.ConfigDict) -> mlc.ConfigDict:
  """The DS-CNN keyword spotter; its frontend's sample rate follows `data.sample_rate`."""
  model = mlc.ConfigDict()
  model.name = "kws_dscnn"
  model.size = "small"
  model.gated = gated
  model.gc_after = (0,)           # DS block indices followed by a GC layer
  model.gc = mlc.ConfigDict(dict(compress=True, two_sided=False, pooling="mean",
                                 gate_hidden=0, init_threshold=0.05))
  model.frontend = mlc.ConfigDict(dict(
      sample_rate=data.get_ref("sample_rate"), frame_ms=32.0, hop_ms=16.0, n_fft=0, num_mels=40,
      fmin=20.0, fmax=0.0, normalisation="utterance", mean=0.0, std=1.0))
  # SpecAugment (gcnet/models/spec_augment.py) on the log-mel features in training; {} for off.
  model.spec_augment = mlc.ConfigDict(dict(num_time_masks=2, max_time=6, num_freq_masks=2,
                                           max_freq=5))
  model.norm = "layer"
  model.head_pooling = "max"      # "mean", "max" or "meanmax" over time and frequency
  # How the first and depthwise convs are computed, never the parameters: "auto" (CPU forms on the
  # CPU backend, XLA's own elsewhere), "cpu" or "xla" (see gcnet/models/conv_cpu.py).
  model.conv_impl = "auto"
  return model
