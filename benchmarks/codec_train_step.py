"""Training steps/s of the heavy-only codec (`experiments/codec_dsl.py:heavy`) on CPU, side by side.

  python benchmarks/codec_train_step.py --rounds=5 --steps=10
  python benchmarks/codec_train_step.py --data=noise --variants=gcnet_step,torch_eager

Variants, interleaved: every round runs `--steps` steps of each, in an order that rotates per round.

  gcnet_step      gcnet's jitted, sharded train step (`gcnet.train.step.make_train_step` on the task's
                  loss, as the loop builds it), `config.model.conv_impl="cpu"` (polyphase transposed
                  convolutions, the default on CPU), on batches already on the device
  gcnet_step_xla  the same with `conv_impl="xla"` (XLA's transposed convolution)
  torch_eager     the eager PyTorch twin (`benchmarks/torch_codec.py`): forward with the EMA
                  codebook update, the same weighted loss, backward, clipping, AdamW

No `torch.compile` variant: compiling the twin's loss (inductor, 2 threads, load 7) had not finished
after 4.5 minutes here, over the 2 minutes this benchmark allows a variant to start.

The batch: `--batch_size` crops of `crop_seconds` (8 x 0.5 s = 4000 samples at 8 kHz) from gcnet's
FSDD stream dataset (`--data=fsdd`) or Gaussian noise (`--data=noise`); every variant cycles
through the same `--num_batches` batches. gcnet's task builds its model from the dataset, so the
FSDD recordings (`--source_dir`) are needed with either. `--warmup` untimed steps first
(compilation and gcnet's one-time k-means codebook initialisation included).

Threads: the process is pinned to `--threads` CPUs before JAX starts (XLA sizes its thread pool
from the CPUs it may run on), PyTorch gets `torch.set_num_threads(--threads)`. `OMP_WAIT_POLICY`
defaults to PASSIVE: on a machine shared with other jobs, PyTorch's spinning OpenMP threads made a
2-thread step 10-30x slower than a 1-thread one (measured here at load 9 on 2 cores).

Ratios are per round (same moment, same load), reported as medians. Output: a table on stdout and
JSON (`--out`) with the command, machine, load averages, versions, every round and the ratios.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.train_throughput import _cpu_model, pin_threads  # pylint: disable=wrong-import-position

VARIANTS = ("gcnet_step", "gcnet_step_xla", "torch_eager")
# name -> (numerator, denominator), ratios of steps/s.
RATIOS = {
    "gcnet_step/torch_eager": ("gcnet_step", "torch_eager"),
    "gcnet_step/gcnet_step_xla": ("gcnet_step", "gcnet_step_xla"),
    "gcnet_step_xla/torch_eager": ("gcnet_step_xla", "torch_eager"),
}
DEFAULT_SOURCE = "/work/shared/data/fsdd/recordings"


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--threads", type=int, default=2)
  p.add_argument("--rounds", type=int, default=5)
  p.add_argument("--steps", type=int, default=10, help="timed steps per variant per round")
  p.add_argument("--warmup", type=int, default=3, help="untimed steps per variant, once")
  p.add_argument("--batch_size", type=int, default=8)
  p.add_argument("--num_batches", type=int, default=4, help="distinct batches, cycled")
  p.add_argument("--data", choices=("fsdd", "noise"), default="fsdd")
  p.add_argument("--source_dir", default=DEFAULT_SOURCE, help="FSDD recordings (--data=fsdd)")
  p.add_argument("--variants", default=",".join(VARIANTS),
                 help="comma-separated, from: " + ",".join(VARIANTS))
  p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results",
                                               "codec_train_step.json"))
  args = p.parse_args(argv)
  variants = [v for v in args.variants.split(",") if v]
  unknown = sorted(set(variants) - set(VARIANTS))
  if unknown or not variants:
    p.error(f"unknown or no variants {unknown}; choose from {','.join(VARIANTS)}")
  if min(args.threads, args.rounds, args.steps, args.batch_size, args.num_batches) < 1:
    p.error("--threads, --rounds, --steps, --batch_size and --num_batches must be >= 1")
  if not os.path.isdir(args.source_dir):
    p.error(f"--source_dir={args.source_dir} is not a directory: gcnet's task needs the FSDD "
            "recordings (experiments/codec_dsl.py)")
  args.variants = variants
  return args


def make_config(args, conv_impl: str = "cpu"):
  """`experiments/codec_dsl.py:heavy` with the benchmark's batch size, data source and conv_impl."""
  from experiments import codec_dsl
  config = codec_dsl.get_config("heavy")
  with config.unlocked():
    config.data.source_dir = args.source_dir
    config.train.batch_size = args.batch_size
    config.model.conv_impl = conv_impl
  return config


def host_batches(config, args) -> list[dict]:
  """`num_batches` batches `{"inputs": float32 [B, crop_samples]}` of the chosen data."""
  import numpy as np
  samples = int(round(config.data.crop_seconds * config.data.sample_rate))
  if args.data == "noise":
    rng = np.random.default_rng(0)
    return [{"inputs": np.clip(0.1 * rng.standard_normal((args.batch_size, samples)), -1, 1)
             .astype(np.float32)} for _ in range(args.num_batches)]
  from gcnet import data as data_lib
  dataset = data_lib.get_dataset(config.data)
  it = data_lib.train_iterator(dataset, "train", global_batch_size=args.batch_size,
                               seed=config.seed)
  batches = [{"inputs": np.asarray(next(it)["inputs"], np.float32)}
             for _ in range(args.num_batches)]
  if batches[0]["inputs"].shape != (args.batch_size, samples):
    raise ValueError(f"dataset batches are {batches[0]['inputs'].shape}, expected "
                     f"{(args.batch_size, samples)}")
  return batches


class GcnetStep:
  """gcnet's jitted train step (as `gcnet.train.loop` builds it) on batches already on device."""

  def __init__(self, config, batches):
    import jax
    from gcnet import tasks
    from gcnet.train import loop, mesh as mesh_lib
    task = tasks.get_task(config)
    self.mesh, self.state, self.step, _ = loop.make_train_steps(config, task)
    self.num_params = sum(x.size for x in jax.tree.leaves(self.state.params))
    self.batches = [mesh_lib.make_global_batch(b, self.mesh) for b in batches]
    self.rng, self.i = jax.random.key(1), 0
    self.model = task.model

  def run(self, steps: int) -> None:
    import jax
    with jax.set_mesh(self.mesh):
      for _ in range(steps):
        self.state, metrics = self.step(self.state, self.batches[self.i % len(self.batches)],
                                        self.rng)
        self.i += 1
      jax.block_until_ready((self.state, metrics))


class TorchStep:
  """The PyTorch twin's training step on the same batches."""

  def __init__(self, config, batches, model):
    import torch
    from benchmarks import torch_codec
    twin = torch_codec.from_model_config(model)
    self.num_params = torch_codec.num_params(twin)
    self.trainer = torch_codec.CodecTrainer(twin, config.train, config.loss, model.sample_rate)
    self.batches = [torch.from_numpy(b["inputs"]) for b in batches]
    self.i = 0

  def run(self, steps: int) -> None:
    for _ in range(steps):
      loss = self.trainer.step(self.batches[self.i % len(self.batches)])
      self.i += 1
    loss.item()


def import_torch(threads: int):
  """torch with `threads` intra-op threads, or SystemExit telling how to install it."""
  os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # before torch starts its OpenMP pool
  try:
    import torch
  except ImportError as e:
    raise SystemExit("PyTorch is not installed: pip install torch (or pip install -e .[bench]), "
                     "or run only --variants=gcnet_step,gcnet_step_xla.") from e
  torch.set_num_threads(threads)
  torch.set_num_interop_threads(1)
  return torch


def build_runners(args, batches, notes: dict) -> dict:
  """Every variant built and warmed up (`--warmup` steps), checking the twin's parameter count."""
  runners, model = {}, None
  for v in args.variants:
    if v.startswith("gcnet"):
      runners[v] = GcnetStep(make_config(args, "xla" if v.endswith("_xla") else "cpu"), batches)
      model = runners[v].model
  if model is None:
    from gcnet import tasks
    model = tasks.get_task(make_config(args)).model
  for v in args.variants:
    if v.startswith("torch"):
      runners[v] = TorchStep(make_config(args), batches, model)
  for v in args.variants:
    start = time.perf_counter()
    runners[v].run(args.warmup)
    notes[f"{v}_warmup_s"] = round(time.perf_counter() - start, 1)
  check_param_counts(runners)
  return runners


def check_param_counts(runners: dict) -> None:
  """Raises SystemExit unless every variant has the same number of trainable parameters."""
  counts = {v: r.num_params for v, r in runners.items()}
  if len(set(counts.values())) > 1:
    raise SystemExit(f"parameter counts differ, the twin is not gcnet's model: {counts}")


def measure(args, runners: dict) -> tuple[dict, list]:
  """`({variant: [steps/s per round]}, [1-min load average at the start of each round])`."""
  results, loads = {v: [] for v in args.variants}, []
  for r in range(args.rounds):
    loads.append(os.getloadavg()[0])
    shift = r % len(args.variants)
    for v in args.variants[shift:] + args.variants[:shift]:
      start = time.perf_counter()
      runners[v].run(args.steps)
      results[v].append(args.steps / (time.perf_counter() - start))
      print(f"round {r + 1}/{args.rounds} {v:15s} {results[v][-1]:7.2f} steps/s", flush=True)
  return results, loads


def summarize(args, results, loads, cpus, load_start, runners, notes, torch_version) -> dict:
  import flax
  import jax
  ratios = {}
  for name, (num, den) in RATIOS.items():
    if num in results and den in results:
      paired = [a / b for a, b in zip(results[num], results[den])]
      ratios[name] = {"median": statistics.median(paired), "per_round": paired}
  return {
      "command": "python " + " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:]),
      "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
      "machine": {"cpu": _cpu_model(), "cpus_visible": os.cpu_count(), "pinned_cpus": cpus,
                  "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
                  "loadavg_per_round": loads, "python": platform.python_version()},
      "threads": {"xla": len(cpus), "torch": args.threads if torch_version else None,
                  "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")},
      "versions": {"jax": jax.__version__, "flax": flax.__version__, "torch": torch_version},
      "settings": {"config": "experiments/codec_dsl.py:heavy", "data": args.data,
                   "source_dir": args.source_dir,
                   "batch_size": args.batch_size, "num_batches": args.num_batches,
                   "rounds": args.rounds, "steps": args.steps, "warmup": args.warmup},
      "num_params": {v: r.num_params for v, r in runners.items()},
      "steps_per_s": {v: {"median": statistics.median(x), "min": min(x), "max": max(x),
                          "runs": x} for v, x in results.items()},
      "ratios": ratios,
      "notes": notes,
  }


def print_table(report: dict) -> None:
  m, s = report["machine"], report["settings"]
  print(f"\ncodec heavy, {s['data']} batch {s['batch_size']}; threads XLA={report['threads']['xla']}"
        f" torch={report['threads']['torch']}; load {m['loadavg_start'][0]:.1f} -> "
        f"{m['loadavg_end'][0]:.1f}; params {report['num_params']}")
  rates = report["steps_per_s"]
  base = rates.get("torch_eager", {}).get("median")
  print(f"{'variant':15s} {'steps/s':>8s} {'ms/step':>8s} {'x torch_eager':>14s}")
  for v, r in rates.items():
    ratio = "" if base is None else f"{r['median'] / base:14.2f}"
    print(f"{v:15s} {r['median']:8.2f} {1000 / r['median']:8.0f} {ratio}")
  print(f"\n{'ratio (per-round median)':28s} {'median':>7s}  per round")
  for name, r in report["ratios"].items():
    print(f"{name:28s} {r['median']:7.2f}  {', '.join(f'{x:.2f}' for x in r['per_round'])}")


def main(argv=None):
  args = parse_args(argv)
  cpus = pin_threads(args.threads)   # before JAX (and its thread pool) starts
  torch_version = None
  if any(v.startswith("torch") for v in args.variants):
    torch_version = import_torch(args.threads).__version__
  load_start = os.getloadavg()
  notes = {}
  batches = host_batches(make_config(args), args)
  runners = build_runners(args, batches, notes)
  results, loads = measure(args, runners)
  report = summarize(args, results, loads, cpus, load_start, runners, notes, torch_version)
  print_table(report)
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(report, f, indent=2)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
