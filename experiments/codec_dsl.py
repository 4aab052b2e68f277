"""SoundStream with a Dynamic Switch Layer on FSDD always-on streams (8 kHz), trained without labels.

The arg picks the variant (comma-separated parts, any order):

- `dsl` (heavy budget rho = 0.2), `dsl_budget<rho>` (e.g. `dsl_budget0.1`): the switch over the
  heavy and light decoders, with routing entropy and budget terms;
- `heavy`, `light`: single-decoder baselines (no switch);
- `stage2`: two-stage training, on the frozen encoder, codebooks (and, for the DSL, heavy decoder)
  of the heavy-only run `config.warm_start.workdir` (default runs/codec_heavy): light-only and
  every DSL budget then share one encoder and one budget (1,500 steps);
- `predict` (with `dsl...,stage2`): the error-predicting switch instead of entropy + budget;
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


def codec_model_config(pathway: str, size: str = "small") -> mlc.ConfigDict:
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
  return model


def codec_loss_config(pathway: str, budget: float, predict: bool = False,
                      stage2: bool = False) -> mlc.ConfigDict:
  loss = mlc.ConfigDict()
  loss.task = "codec"
  terms = {"mel": 1.0, "waveform_l1": 1.0}
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
  loss.gate_positive_weight = 1.0         # unused (classification only)
  return loss


def codec_eval_config() -> mlc.ConfigDict:
  ev = mlc.ConfigDict()
  ev.every_steps = 0                      # codec runs evaluate at the end (gcnet/tasks/codec_report.py)
  ev.batch_size = 32
  ev.split = "test"                       # speaker-held-out
  ev.max_seconds = 0.0                    # 0: the whole split
  ev.pesq = True
  ev.n_q = 0                              # quantizers at evaluation (0: all)
  ev.timing_seconds = 20.0                # audio decoded for the decode-time comparison
  ev.timing_repeats = 3
  ev.theta = 0.5                          # unused (classification only)
  ev.baseline_workdir = ""                # a heavy-only run to compare against
  return ev


def parse_arg(arg: str) -> dict:
  """`"dsl_budget0.1,predict,stage2"` -> `{"pathway": "dsl", "budget": 0.1, "predict": True,
  "stage2": True, "runlocal": False}`."""
  parts = {"pathway": "dsl", "budget": DEFAULT_BUDGET, "predict": False, "stage2": False,
           "runlocal": False}
  for part in filter(None, (p.strip() for p in arg.split(","))):
    if part in ("runlocal", "predict", "stage2"):
      parts[part] = True
    elif part in ("dsl", "heavy", "light"):
      parts["pathway"] = part
    elif part.startswith("dsl_budget"):
      parts["pathway"], parts["budget"] = "dsl", float(part[len("dsl_budget"):])
    else:
      raise ValueError(f"Unknown codec_dsl config argument {part!r}; use dsl, dsl_budget<rho>, "
                       "heavy, light, predict, stage2, runlocal (comma-separated).")
  if parts["predict"] and (parts["pathway"] != "dsl" or not parts["stage2"]):
    raise ValueError("'predict' (the error-predicting switch) needs a DSL codec on a frozen heavy "
                     "decoder: use dsl[_budget<rho>],predict,stage2.")
  if parts["stage2"] and parts["pathway"] == "heavy":
    raise ValueError("'stage2' trains a light-only or DSL codec on a trained heavy-only one; "
                     "'heavy' is stage 1.")
  return parts


def build_config(arg: str, experiment: str, data: mlc.ConfigDict, size: str) -> mlc.ConfigDict:
  parts = parse_arg(arg)
  pathway, runlocal = parts["pathway"], parts["runlocal"]
  config = common.base_config()
  config.experiment = experiment
  config.variant = arg or "dsl"
  config.data = data
  config.model = codec_model_config(pathway, size)
  config.loss = codec_loss_config(pathway, parts["budget"], parts["predict"], parts["stage2"])
  config.eval = codec_eval_config()
  # Two-stage training (gcnet/models/codec/warm_start.py): a trained heavy-only run to start from and
  # the parts of it kept fixed ("encoder", "quantizer", "heavy").
  config.warm_start = mlc.ConfigDict({"workdir": "", "frozen": ()})
  # Measured on 2 CPU cores (docs/results/codec_dsl.md): batch 8 of 0.5 s crops runs about 3 steps/s;
  # at 400 steps lr 3e-3 and 1e-3 gave the same training loss (1.16 / 1.17), but at 3e-3 a
  # 12k-step run diverged at step 800 (loss 1.49 -> 36).
  config.train.num_steps = 12000
  config.train.batch_size = 8
  config.train.learning_rate = 1e-3
  config.train.warmup_steps = 500
  config.train.weight_decay = 0.0
  config.train.log_every_steps = 100
  config.checkpoint.every_steps = 1000
  if parts["stage2"]:
    # Stage 2 trains only the light decoder (11k params) and the switch: a shorter budget.
    config.train.num_steps = 1500
    config.train.warmup_steps = 100
    config.model.switch_hidden = 32
    config.model.switch_training = "predict" if parts["predict"] else "mixed"
    config.warm_start.workdir = "runs/codec_heavy"
    config.warm_start.frozen = ("encoder", "quantizer") + (("heavy",) if pathway == "dsl" else ())
  if runlocal:
    common.apply_arg(config, "runlocal")
    config.train.batch_size = 8
    config.data.crop_seconds = 0.25
    config.data.eval_crop_seconds = 0.5
    config.eval.batch_size = 8
    config.eval.max_seconds = 4.0
    config.eval.timing_seconds = 1.0
    config.eval.timing_repeats = 1
    config.eval.every_steps = 0
  return config


def get_config(arg: str = "") -> mlc.ConfigDict:
  return common.lock(build_config(arg, "codec_dsl", codec_data_config(), "small"))


def get_sweep(hyper):
  """Heavy budgets rho of the DSL codec (the heavy-only / light-only baselines are separate runs)."""
  return hyper.sweep("config.loss.heavy_budget", [0.1, 0.2, 0.3, 0.5])
