"""Shared pieces of experiment configs. Every experiment file builds on `base_config()`."""

import ml_collections as mlc


def base_config() -> mlc.ConfigDict:
  config = mlc.ConfigDict()
  config.experiment = ""
  config.seed = 0
  config.data = mlc.ConfigDict()
  config.model = mlc.ConfigDict()

  config.loss = mlc.ConfigDict()
  # Auxiliary terms by name -> weight (the task's `term_names`, e.g.
  # gcnet.tasks.classification_objective.TERMS). Empty: task loss only.
  config.loss.terms = mlc.ConfigDict()
  config.loss.gate_positive_weight = 1.0
  # A schedule of some terms' weights: 0 until `start`, linear to the full weight at `end` (fractions
  # of train.num_steps), e.g. terms=("compression_l1",) to let the gate and the task learn first.
  # terms=(): every term at its full weight from step 0.
  config.loss.ramp = mlc.ConfigDict(dict(terms=(), start=0.0, end=0.0))

  config.train = mlc.ConfigDict()
  config.train.num_steps = 1000
  config.train.batch_size = 128           # global batch, split over the mesh's data axis
  config.train.optimizer = "adamw"
  config.train.learning_rate = 2e-3
  config.train.warmup_steps = 200
  config.train.schedule = "cosine"        # "cosine" or "constant"
  config.train.weight_decay = 1e-4
  config.train.grad_clip_norm = 1.0       # 0: no clipping
  config.train.log_every_steps = 100
  # Steps per jitted call (k steps unrolled in one program; equal to k one-step calls up to float32
  # rounding): for small models whose step is short next to the per-call host work. Logging,
  # evaluation and checkpoint steps always end a call (one-step calls fill up to them).
  config.train.steps_per_call = 1
  # Mixed precision (gcnet.train.precision): "bfloat16" computes convs and dense layers in bf16
  # with float32 parameters, optimizer state, gate / switch / quantizer math, losses and metrics.
  config.train.compute_dtype = "float32"
  config.train.nonfinite = "error"        # "error": stop at a NaN/Inf loss; "skip": skip the update

  config.mesh = mlc.ConfigDict()
  config.mesh.data = -1                   # devices on the data axis; -1: all devices

  config.checkpoint = mlc.ConfigDict()
  config.checkpoint.every_steps = 1000
  config.checkpoint.max_to_keep = 3

  config.eval = mlc.ConfigDict()
  config.eval.every_steps = 2000          # periodic validation during training (0: only at the end)
  config.eval.batch_size = 500
  config.eval.theta = 0.5
  config.eval.target_recall = 0.99        # calibrate theta on validation for this positive recall
  config.eval.baseline_workdir = ""       # an ungated run to compare accuracy against
  return config


def image_data_config(name: str, positive_classes) -> mlc.ConfigDict:
  data = mlc.ConfigDict()
  data.name = name
  data.source_dir = ""            # raw files; "" -> the dataset's default location
  data.data_dir = ""              # prepared TFDS datasets; "" -> $TFDS_DATA_DIR or ~/tensorflow_datasets
  data.positive_classes = tuple(positive_classes)   # source classes -> labels 0..K-1; rest -> K
  data.validation_fraction = 0.1  # carved from train with a fixed seed
  data.split_seed = 0
  data.worker_count = 0           # grain worker processes (0: in the main process)
  # Decode the splits once into arrays ("auto": when at most in_memory_max_mb; "always", "never").
  data.in_memory = "auto"
  data.in_memory_max_mb = 1024
  return data


def image_model_config(gated: bool) -> mlc.ConfigDict:
  model = mlc.ConfigDict()
  model.name = "image_cnn"
  model.size = "small"
  model.widths = ()               # channels per block; () -> those of `size`
  model.gated = gated
  model.gc_after = (0,)
  model.gc = mlc.ConfigDict(dict(compress=True, two_sided=False, pooling="mean",
                                 gate_hidden=0, init_threshold=0.05, gate_input="z"))
  # How convs and pooling are computed, never the parameters: "auto" ("cpu" forms on the CPU
  # backend, XLA's own elsewhere), "cpu" or "xla" (see gcnet/models/conv_cpu.py).
  model.conv_impl = "auto"
  return model


def parse_arg(arg: str, experiment: str, words=(), numbered=()) -> dict:
  """The one reader of a config argument (`--config=experiments/x.py:ARG`): comma-separated words.

  Returns `{word: bool}` for "runlocal" and each of `words`, and `{prefix: float or None}` for each
  of `numbered` (a word `<prefix><number>`, e.g. "dsl_budget0.3").
  Raises:
    ValueError: a word that is none of these, naming the ones `experiment` takes.
  """
  words = ("runlocal", *words)
  out = {w: False for w in words} | {p: None for p in numbered}
  for part in filter(None, (p.strip() for p in arg.split(","))):
    prefix = next((p for p in numbered if part.startswith(p)), None)
    if part in words:
      out[part] = True
    elif prefix is not None:
      try:
        out[prefix] = float(part[len(prefix):])
      except ValueError:
        prefix = None
    if part not in words and prefix is None:
      known = ", ".join([*words, *(f"{p}<number>" for p in numbered)])
      raise ValueError(f"Unknown {experiment} config argument {part!r}; use {known} "
                       "(comma-separated), or nothing.")
  return out


def apply_arg(config: mlc.ConfigDict, arg: str) -> None:
  """The config argument of an experiment that takes only `runlocal`."""
  if parse_arg(arg, config.experiment)["runlocal"]:
    apply_runlocal(config)


def apply_runlocal(config: mlc.ConfigDict) -> None:
  """Shrinks the run to seconds (tests, smoke runs)."""
  config.train.num_steps = 20
  config.train.batch_size = 32
  config.train.warmup_steps = 2
  config.train.log_every_steps = 5
  config.checkpoint.every_steps = 10
  config.eval.every_steps = 0
  config.eval.batch_size = 64
  if "size" in config.model:
    config.model.size = "tiny"
  config.runlocal = True


def lock(config: mlc.ConfigDict) -> mlc.ConfigDict:
  """Locks the key set: an override of an unknown key is an error that names it."""
  if "runlocal" not in config:
    config.runlocal = False
  config.lock()
  return config


def gc_loss_sweep(hyper, gate_weights=(0.3, 1.0, 3.0), compression_weights=(0.1, 0.5, 2.0)):
  """The grid over the GC loss weights alpha (gate_bce) and beta (compression_l1)."""
  return hyper.product([
      hyper.sweep("config.loss.terms.gate_bce", list(gate_weights)),
      hyper.sweep("config.loss.terms.compression_l1", list(compression_weights)),
  ])
