"""SoundStream-style codec with a Dynamic Switch Layer on always-on speech streams (8 kHz), unlabelled.

Data: the speech corpus (gcnet/data/audio/speech_corpus.py: six professional prompt speakers from
Debian packages in Spanish, Italian, Russian and French, plus FSDD), whole speakers held out:
test = ru_ivrvoice + fsdd_theo, validation = fr_armelle + fsdd_nicolas. Model: the conv encoder,
an EMA RVQ (8 x 256 codes, 12.8 kbps) and Vocos-style frame-rate decoders (heavy 192 x 8 ConvNeXt
blocks, light 32 x 2) with an inverse-STFT head; loss: DAC's log-mel L1 (weight 15) + commitment.

The arg picks the variant (comma-separated parts, any order):

- `dsl` (heavy budget rho = 0.2), `dsl_budget<rho>` (e.g. `dsl_budget0.1`): the switch over the
  heavy and light decoders, with routing entropy and budget terms;
- `heavy`, `light`: single-decoder baselines (no switch);
- `stage2`: two-stage training, on the frozen encoder, codebooks (and, for the DSL, heavy decoder)
  of the heavy-only run `config.warm_start.workdir` (default runs/codec_heavy): light-only and
  every DSL budget then share one encoder and one budget (1,000 steps);
- `predict` (with `dsl...,stage2`): the error-predicting switch instead of entropy + budget;
- `transposed`: SoundStream's transposed-conv decoders instead of the frame-rate ones;
- `fsq`: finite scalar quantization (8 codes of 2 x 16 levels per frame, the same bitrate);
- `adversarial`: the multi-resolution STFT discriminator (its terms at weight 0 for the
  reconstruction-only warm-up; resume with the weights set, see scripts/codec_runs.sh);
- `soundstream_loss`: SoundStream's mel + waveform L1 instead of DAC's log-mel loss;
- `fsdd`: the FSDD-only streams of before (test theo, validation nicolas);
- `runlocal`: the tiny codec for a few steps (tests, smoke runs).

The recipe and its measurements: docs/results/codec_dsl.md; every run: scripts/codec_runs.sh.

  python -m gcnet.cli.train --config=experiments/codec_dsl.py:dsl_budget0.2 --workdir=runs/codec_dsl
  python -m gcnet.cli.train --config=experiments/codec_dsl.py:heavy --workdir=runs/codec_heavy
  python -m gcnet.cli.train --config=experiments/codec_dsl.py:dsl_budget0.5,predict,stage2 \
      --workdir=runs/codec_dsl_predict_0.5 --config.warm_start.workdir=runs/codec_heavy
  python -m gcnet.cli.train --config=experiments/codec_dsl.py:dsl,runlocal --workdir=/tmp/x
  python -m launch.sweep --config=experiments/codec_dsl.py:dsl --sweep_dir=runs/codec_sweep
  python -m gcnet.cli.codec --workdir=runs/codec_dsl --input=in.wav --output=out.wav
"""

import ml_collections as mlc

from experiments import audio_common
from experiments import common

DEFAULT_BUDGET = 0.2


def codec_data_config(sample_rate: int = 8000) -> mlc.ConfigDict:
  """FSDD clips joined by pauses of background, speaker-held-out (gcnet/data/audio/codec_streams.py)."""
  data = mlc.ConfigDict()
  data.name = "fsdd_streams"
  data.source_dir = ""                    # "" -> ../shared/data/fsdd/recordings or ~/...
  data.sample_rate = sample_rate
  data.crop_seconds = 0.5                 # training crop (4x cheaper per second of audio than 1 s)
  data.train_level_db = -20.0             # each training crop to -20 dBFS RMS, gain <= 20 dB
  data.train_max_gain_db = 20.0
  data.eval_crop_seconds = 4.0            # validation / test crops (tiling the stream)
  data.test_speakers = ("theo",)
  data.validation_speakers = ("nicolas",)
  data.split_seed = 0
  data.skip_corrupt = False
  data.pause_seconds = (0.2, 1.2)         # background between clips
  data.long_pause_prob = 0.15             # some longer stretches of background only
  data.long_pause_seconds = (2.0, 4.0)
  data.speech_level_db = (-30.0, -18.0)   # RMS dBFS of each clip
  data.background_weights = mlc.ConfigDict(dict(silence=0.4, noise=0.4, real=0.2))
  data.background_dirs = ((audio_common.SOUND_THEME_DIR,)
                          if audio_common.os.path.isdir(audio_common.SOUND_THEME_DIR) else ("",))
  data.noise_level_db = (-60.0, -40.0)    # low-level background in the pauses
  data.bed_noise_db = -70.0
  data.worker_count = 0
  return data


def speech_data_config(sample_rate: int = 8000) -> mlc.ConfigDict:
  """The speech corpus (six Asterisk prompt speakers in four languages + FSDD) as streams, whole
  speakers held out (gcnet/data/audio/speech_streams.py); pauses and levels as `codec_data_config`."""
  data = codec_data_config(sample_rate)
  data.name = "speech_streams"
  data.data_dir = ""                      # prepared TFDS data; "" -> $TFDS_DATA_DIR or ~/...
  data.asterisk_root = ""                 # "" -> /usr/share/asterisk/sounds
  data.train_speakers = ()                # () -> every speaker not held out
  data.test_speakers = ("ru_ivrvoice", "fsdd_theo")
  data.validation_speakers = ("fr_armelle", "fsdd_nicolas")
  return data


def codec_model_config(pathway: str, size: str = "small", decoder: str = "frame"
                       ) -> mlc.ConfigDict:
  model = mlc.ConfigDict()
  model.name = "soundstream_dsl"
  model.size = size
  model.pathway = pathway                 # "dsl", "heavy" or "light"
  model.switch_mode = "hard"              # straight-through hard routing in training
  model.switch_init_bias = 0.0
  model.switch_hidden = 0                 # width of the switch's hidden ReLU layer (0: linear)
  model.switch_training = "mixed"         # "mixed" (entropy + budget) or "predict" (see `predict`)
  # Fraction of examples on a random number of quantizers (SoundStream's bitrate scalability). 0:
  # every codebook is trained on every example, what a fixed-bitrate codec on a CPU budget needs.
  model.quantizer_dropout = 0.0
  model.adversarial = False               # STFT discriminator (off on CPU)
  # How the decoders' transposed convs are computed, never the parameters: "auto" (a polyphase
  # matmul on the CPU backend, XLA's own elsewhere), "cpu" or "xla".
  model.conv_impl = "auto"
  # "frame": Vocos-style decoders at the frame rate with an inverse-STFT head (heavy 192 x 8 blocks,
  # light 32 x 2); "transposed": SoundStream's transposed-conv decoders (gcnet/models/codec).
  model.decoder_kind = decoder
  # The light frame decoder's width and depth; unset: the size's (small: 32 x 2).
  model.light_frame_channels = mlc.config_dict.placeholder(int)
  model.light_frame_blocks = mlc.config_dict.placeholder(int)
  return model


def codec_loss_config(pathway: str, budget: float, predict: bool = False,
                      stage2: bool = False, dac_mel: bool = True) -> mlc.ConfigDict:
  loss = mlc.ConfigDict()
  loss.task = "codec"
  # DAC's recipe: the L1 log-mel loss weighted 15 (no waveform term); or SoundStream's mel + L1.
  terms = {"log_mel": 15.0} if dac_mel else {"mel": 1.0, "waveform_l1": 1.0}
  if not stage2:  # Frozen codebooks: the commitment loss is a constant.
    terms["commitment"] = 0.25
  if pathway == "dsl" and predict:
    terms["routing_prediction"] = 1.0
  elif pathway == "dsl":
    terms.update(routing_entropy=0.05, routing_budget=20.0)
  loss.terms = mlc.ConfigDict(terms)
  loss.heavy_budget = budget              # rho: target fraction of segments on the heavy decoder
  loss.budget_kind = "l2"
  # "decision": the budget sees the hard routing (straight-through), so it controls what runs;
  # "prob": the mean heavy probability (let 100% of segments go light at step 100, see the results).
  loss.budget_on = "decision"
  loss.mel_scales = (32, 64, 128, 256, 512)   # 4-64 ms windows at 8 kHz
  loss.mel_log_weight = 1.0
  return loss


def codec_eval_config() -> mlc.ConfigDict:
  ev = mlc.ConfigDict()
  ev.every_steps = 0                      # codec runs evaluate at the end (gcnet/tasks/codec_report.py)
  ev.batch_size = 32
  ev.split = "test"                       # speaker-held-out
  ev.max_seconds = 0.0                    # report: seconds of the split (0: the whole split)
  ev.validation_seconds = 0.0             # periodic validation: seconds of it (0: all)
  ev.pesq = True
  ev.n_q = 0                              # quantizers at evaluation (0: all)
  ev.timing_seconds = 20.0                # audio decoded for the decode-time comparison
  ev.timing_repeats = 3
  ev.baseline_workdir = ""                # a heavy-only run to compare against
  return ev


def parse_arg(arg: str) -> dict:
  """`"dsl_budget0.1,predict,stage2"` -> `{"pathway": "dsl", "budget": 0.1, "predict": True,
  "stage2": True, "runlocal": False}` (the words read by `common.parse_arg`)."""
  words = common.parse_arg(arg, "codec_dsl", words=("dsl", "heavy", "light", "predict", "stage2",
                                                   "fsdd", "transposed", "soundstream_loss",
                                                   "adversarial", "fsq"),
                           numbered=("dsl_budget",))
  pathways = [p for p in ("dsl", "heavy", "light") if words[p]]
  if len(pathways) > 1:
    raise ValueError(f"codec_dsl config argument {arg!r} names {len(pathways)} pathways; use one.")
  parts = {"pathway": (pathways or ["dsl"])[0], "budget": DEFAULT_BUDGET,
           **{k: words[k] for k in ("predict", "stage2", "runlocal", "fsdd", "transposed",
                                  "soundstream_loss", "adversarial", "fsq")}}
  if words["dsl_budget"] is not None:
    parts["pathway"], parts["budget"] = "dsl", words["dsl_budget"]
  if parts["predict"] and (parts["pathway"] != "dsl" or not parts["stage2"]):
    raise ValueError("'predict' (the error-predicting switch) needs a DSL codec on a frozen heavy "
                     "decoder: use dsl[_budget<rho>],predict,stage2.")
  if parts["stage2"] and parts["pathway"] == "heavy":
    raise ValueError("'stage2' trains a light-only or DSL codec on a trained heavy-only one; "
                     "'heavy' is stage 1.")
  return parts


def build_config(arg: str, experiment: str, data: mlc.ConfigDict | None, size: str
                 ) -> mlc.ConfigDict:
  """The config of `arg` (`parse_arg`); `data` None: the speech corpus, or FSDD with `fsdd`."""
  parts = parse_arg(arg)
  pathway, runlocal = parts["pathway"], parts["runlocal"]
  config = common.base_config()
  config.experiment = experiment
  config.variant = arg or "dsl"
  if data is None:
    data = codec_data_config() if parts["fsdd"] else speech_data_config()
  config.data = data
  config.model = codec_model_config(pathway, size,
                                    "transposed" if parts["transposed"] else "frame")
  config.loss = codec_loss_config(pathway, parts["budget"], parts["predict"], parts["stage2"],
                                  dac_mel=not parts["soundstream_loss"])
  if parts["fsq"]:
    # 8 codes of 2 values x 16 levels per frame: 64 bits, the RVQ's 8 x 8 bits (12.8 kbps).
    config.model.quantizer_kind = "fsq"
    del config.loss.terms["commitment"]  # FSQ has no commitment loss.
  if parts["adversarial"]:
    # The STFT discriminator exists from step 0 but its terms start at weight 0: a reconstruction-
    # only warm-up (`--stop_after`), then the same workdir resumed with DAC's weights
    # (--config.loss.terms.adv_generator=1 --config.loss.terms.feature_matching=2
    # --config.loss.terms.adv_discriminator=1; scripts/codec_runs.sh).
    config.model.adversarial = True
    config.loss.terms.update(adv_generator=0.0, feature_matching=0.0, adv_discriminator=0.0)
  config.eval = codec_eval_config()
  # Two-stage training (gcnet/models/codec/warm_start.py): a trained heavy-only run to start from and
  # the parts of it kept fixed ("encoder", "quantizer", "heavy").
  config.warm_start = mlc.ConfigDict({"workdir": "", "frozen": ()})
  # Measured on 2 CPU cores (docs/results/codec_dsl.md): batch 8 of 0.5 s crops runs about 3 steps/s;
  # at 400 steps lr 3e-3 and 1e-3 gave the same training loss (1.16 / 1.17), but at 3e-3 a
  # 12k-step run diverged at step 800 (loss 1.49 -> 36).
  # Stage 1 in one session's time (about 65 minutes at the measured 1.3-1.7 steps/s); later
  # sessions continue it from the committed weights (config.warm_start.workdir).
  config.train.num_steps = 6000
  config.train.batch_size = 8
  config.train.learning_rate = 1e-3
  config.train.warmup_steps = 500
  config.train.weight_decay = 0.0
  config.train.log_every_steps = 100
  config.checkpoint.every_steps = 500
  config.checkpoint.max_to_keep = 20      # the best-so-far by validation PESQ is exported
  # Validation quality while training: 60 s of each held-out speaker, speech PESQ and STOI.
  config.eval.every_steps = 500
  config.eval.validation_seconds = 120.0
  if parts["stage2"]:
    # Stage 2 trains only the light decoder and the switch: a shorter budget.
    config.train.num_steps = 1000
    config.train.warmup_steps = 100
    config.model.switch_hidden = 32
    config.model.switch_training = "predict" if parts["predict"] else "mixed"
    config.warm_start.workdir = "runs/codec_heavy"
    config.warm_start.frozen = ("encoder", "quantizer") + (("heavy",) if pathway == "dsl" else ())
  if runlocal:
    common.apply_runlocal(config)
    config.train.batch_size = 8
    config.data.crop_seconds = 0.25
    config.data.eval_crop_seconds = 0.5
    config.eval.batch_size = 8
    config.eval.max_seconds = 4.0
    config.eval.validation_seconds = 4.0
    config.eval.timing_seconds = 1.0
    config.eval.timing_repeats = 1
    config.eval.every_steps = 0
  return config


def get_config(arg: str = "") -> mlc.ConfigDict:
  return common.lock(build_config(arg, "codec_dsl", None, "small"))


def get_sweep(hyper):
  """Heavy budgets rho of the DSL codec (the heavy-only / light-only baselines are separate runs)."""
  return hyper.sweep("config.loss.heavy_budget", [0.1, 0.2, 0.3, 0.5])
