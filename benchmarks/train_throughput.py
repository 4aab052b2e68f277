"""Training throughput (examples/s) of a GC model on CPU, measured side by side.

  python benchmarks/train_throughput.py                       # all CPUs, 3 repeats
  python benchmarks/train_throughput.py --threads=1 --repeats=5
  python benchmarks/train_throughput.py --model=kws           # the FSDD keyword spotter

`--model=fashion_mnist` (default) is the Fashion-MNIST GC CNN (`experiments/fashion_mnist_gc.py`);
`--model=kws` the DS-CNN keyword spotter of `experiments/fsdd_kws_gc.py` on the real FSDD clips
(`../shared/data/fsdd/recordings` or `--fsdd_dir`), with its training augmentation (speed/pitch,
reverberation, background mixing on the host; SpecAugment masks in the step), against the PyTorch
twin `torch_reference.KwsDSCNN` (log-mel, masks and model in eager PyTorch, on the same waveforms).

Variants, each run `--repeats` times, interleaved (the order rotates every repeat):

  loop_gc          gcnet's training loop (`gcnet.train.loop.train_and_evaluate`, real data pipeline;
                   the splits decoded once into memory, `config.data.in_memory="auto"`)
  loop_gc_records  the same loop reading and decoding TFDS `array_record` records batch by batch
                   (`config.data.in_memory="never"`, the behaviour before)
  loop_gc_xla      the same with `--config.model.conv_impl=xla` (XLA's conv and pooling: "before")
  loop_ungated     the ungated baseline's loop (`experiments/fashion_mnist_baseline.py`)
  loop_gc_k4       the GC loop with `config.train.steps_per_call=4` (4 steps per jitted call)
  bare_gc          gcnet's jitted train step alone, fed batches already on the devices
  bare_gc_xla      the same with conv_impl=xla
  bare_ungated     the ungated model's jitted train step alone
  bare_gc_k4       the 4-steps-per-call function of `steps_per_call=4` alone, on stacks of 4 batches
  torch_gc         eager PyTorch twin (benchmarks/torch_reference.py), same batches from memory
  torch_ungated    the same without the GC layer
  torch_gc_compile the PyTorch twin with its model under `torch.compile` (inductor; compiled and
                   warmed up once, untimed)
  loop_gc_v0       --model=kws only: the loop with the keyword model as it was before issue 14
                   (LayerNorm, 32/16 ms framing, one step per call) on today's data pipeline
  matmul_peak      XLA's float32 matmul (`--matmul_n` square, jitted), GFLOP/s: the arithmetic limit
                   here, measured in the same rotation as the models

Every model variant also gets GFLOP/s: its examples/s times the FLOPs per example of the GC (or
ungated) step as XLA's cost analysis counts them for the compiled bare step (forward, backward and
optimizer; the PyTorch twin does the same arithmetic), and that as a fraction of `matmul_peak`.

A loop's examples/s is read from the times of its `metrics.jsonl` lines: from the first logged step
(`--warmup` steps, compilation included) to the last, so start-up and compilation are excluded. Bare
steps and PyTorch run `--warmup` untimed steps once, then `--steps` timed steps per repeat.

Threads: the process is pinned to `--threads` CPUs before JAX starts (XLA sizes its thread pool from
the CPUs it may run on) and `torch.set_num_threads(--threads)`, so both use the same number.
Results: a table on stdout and JSON (`--out`), with per-repeat ratios and their medians.
"""

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

VARIANTS = ("loop_gc", "loop_gc_records", "loop_gc_xla", "loop_ungated", "loop_gc_k4",
            "loop_gc_v0", "bare_gc",
            "bare_gc_xla", "bare_ungated", "bare_gc_k4", "torch_gc", "torch_ungated",
            "torch_gc_compile", "matmul_peak")
# The default set: what the targets of docs/benchmarks.md need (the "before" variants are opt-in).
DEFAULT_VARIANTS = ("loop_gc", "loop_ungated", "loop_gc_k4", "bare_gc", "bare_ungated",
                    "bare_gc_k4", "torch_gc", "torch_gc_compile", "matmul_peak")
STEPS_PER_CALL = 4
# name -> (numerator, denominator, target)
RATIOS = {
    "loop/bare": ("loop_gc", "bare_gc", 0.97),
    "loop(records)/bare": ("loop_gc_records", "bare_gc", None),
    "gated/ungated": ("loop_gc", "loop_ungated", 0.95),
    "gated/ungated (bare)": ("bare_gc", "bare_ungated", None),
    "gcnet/pytorch": ("loop_gc", "torch_gc", 1.1),
    "gcnet/pytorch_compile": ("loop_gc", "torch_gc_compile", None),
    "pytorch_compile/pytorch": ("torch_gc_compile", "torch_gc", None),
    "loop_k4/bare": ("loop_gc_k4", "bare_gc", None),
    "loop_k4/bare_k4": ("loop_gc_k4", "bare_gc_k4", None),
    "loop_k4/loop": ("loop_gc_k4", "loop_gc", None),
    "gcnet_k4/pytorch": ("loop_gc_k4", "torch_gc", None),
    "gcnet_k4/pytorch_compile": ("loop_gc_k4", "torch_gc_compile", None),
    "pytorch gated/ungated": ("torch_gc", "torch_ungated", None),
    "gcnet_bare/pytorch": ("bare_gc", "torch_gc", None),
    "conv_impl cpu/xla (loop)": ("loop_gc", "loop_gc_xla", None),
    "conv_impl cpu/xla (bare)": ("bare_gc", "bare_gc_xla", None),
    "loop_k4/loop_v0 (kws now/before)": ("loop_gc_k4", "loop_gc_v0", None),
}


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
  p.add_argument("--repeats", type=int, default=3)
  p.add_argument("--steps", type=int, default=100, help="timed steps per measurement")
  p.add_argument("--warmup", type=int, default=20, help="untimed steps (also the log interval)")
  p.add_argument("--batch_size", type=int, default=128)
  p.add_argument("--model", default="fashion_mnist", choices=("fashion_mnist", "kws"))
  p.add_argument("--size", default="", help="model size ('': image_cnn small, or the kws "
                 "experiment's default)")
  p.add_argument("--fsdd_dir", default="", help="FSDD recordings for --model=kws ('': default)")
  p.add_argument("--data_dir", default="", help="prepared TFDS dir ('' : the config default)")
  p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                 help="comma-separated, from: " + ",".join(VARIANTS))
  p.add_argument("--matmul_n", type=int, default=1024, help="size of matmul_peak's square matmul")
  p.add_argument("--out", default="", help="JSON path ('': benchmarks/results/"
                 "train_throughput.json, or train_throughput_kws.json for --model=kws)")
  args = p.parse_args(argv)
  if not args.out:
    name = "train_throughput_kws.json" if args.model == "kws" else "train_throughput.json"
    args.out = os.path.join(REPO, "benchmarks", "results", name)
  if not args.size and args.model == "fashion_mnist":
    args.size = "small"
  return args


def pin_threads(n: int) -> list:
  cpus = sorted(os.sched_getaffinity(0))[:n]
  os.sched_setaffinity(0, cpus)
  return cpus


def data_source(args) -> tuple[dict, str]:
  """Config overrides of `config.data` and a description: the real data if present (else, for
  Fashion-MNIST, a tiny generated set; FSDD must exist)."""
  if args.model == "kws":
    from gcnet.data.audio import fsdd
    source = args.fsdd_dir or fsdd.default_source_dir()
    if not source or not os.path.isdir(source):
      raise SystemExit("--model=kws needs the FSDD recordings: pass --fsdd_dir=DIR "
                       "(e.g. ../shared/data/fsdd/recordings).")
    out = {"source_dir": source}
    if args.data_dir:
      out["data_dir"] = args.data_dir
    return out, f"real FSDD ({source}), training augmentation on"
  data_dir = args.data_dir
  from gcnet.data.images import fashion_mnist
  try:
    fashion_mnist.find_source_files(fashion_mnist.DEBIAN_DIR)
    return {"data_dir": data_dir}, f"real Fashion-MNIST ({fashion_mnist.DEBIAN_DIR})"
  except fashion_mnist.DatasetNotFoundError:
    from tests.train.fixtures import write_tiny_fashion_mnist
    root = tempfile.mkdtemp(prefix="gcnet_bench_data_")
    source = write_tiny_fashion_mnist(os.path.join(root, "raw"), num_train=2560)
    return ({"source_dir": source, "data_dir": os.path.join(root, "tfds")},
            "tiny generated Fashion-MNIST (the real files were not found)")


def make_config(variant: str, args, data: dict):
  if args.model == "kws":
    from experiments import fsdd_kws_baseline as ungated, fsdd_kws_gc as gated
  else:
    from experiments import fashion_mnist_baseline as ungated, fashion_mnist_gc as gated
  config = (ungated if "ungated" in variant else gated).get_config()
  with config.unlocked():
    config.data.update(data)
    if args.model != "kws":
      config.data.in_memory = "never" if variant.endswith("_records") else "auto"
    conv_impl = "xla" if variant.endswith("_xla") else "auto"
    config.train.steps_per_call = STEPS_PER_CALL if variant.endswith("_k4") else 1
    if args.size:
      config.model.size = args.size
    if variant.endswith("_v0"):
      if args.model != "kws":
        raise SystemExit("loop_gc_v0 is a --model=kws variant")
      config.model.norm = "layer"
      config.model.frontend.frame_ms, config.model.frontend.hop_ms = 32.0, 16.0
    config.model.conv_impl = conv_impl
    config.train.batch_size = args.batch_size
    config.train.num_steps = args.warmup + args.steps
    config.train.log_every_steps = args.warmup
    config.checkpoint.every_steps = 10 ** 9   # only the final save, after the timed steps
    config.eval.every_steps = 0
  return config


def run_loop(config) -> float:
  """examples/s of `train_and_evaluate` between its first and last logged steps."""
  from gcnet import tasks
  from gcnet.train import loop
  from gcnet.train import run_dir
  with tempfile.TemporaryDirectory(prefix="gcnet_bench_") as workdir:
    with contextlib.redirect_stdout(io.StringIO()):
      loop.train_and_evaluate(config, workdir, tasks.get_task(config), report=False)
    rows = [row for row in run_dir.read_metrics(workdir) if "train/loss" in row]
  (s0, t0), (s1, t1) = (rows[0]["step"], rows[0]["time"]), (rows[-1]["step"], rows[-1]["time"])
  return (s1 - s0) * config.train.batch_size / (t1 - t0)


def host_batches(config, count: int = 8) -> list:
  from gcnet import data as data_lib
  dataset = data_lib.get_dataset(config.data)
  it = data_lib.train_iterator(dataset, "train", global_batch_size=config.train.batch_size,
                               seed=config.seed)
  return [next(it) for _ in range(count)]


class BareStep:
  """gcnet's jitted, sharded train step (the one the loop runs) on batches already on device."""

  def __init__(self, config, batches):
    import jax
    from gcnet import tasks
    from gcnet.train import loop, mesh as mesh_lib
    from gcnet.train.loss import make_loss_fn
    from gcnet.train.step import make_multi_train_step, make_train_step
    task = tasks.get_task(config)
    self.mesh = mesh_lib.make_mesh(config.mesh)
    self.state, optimizer = loop.init_state(task, config, self.mesh)
    loss_fn = make_loss_fn(task, config.loss.terms, config.loss.get("ramp"),
                           config.train.num_steps)
    self.k = config.train.steps_per_call
    if self.k == 1:
      self.step = make_train_step(loss_fn, optimizer, self.mesh, self.state)
      self.batches = [mesh_lib.make_global_batch(b, self.mesh) for b in batches]
    else:
      self.step = make_multi_train_step(loss_fn, optimizer, self.mesh, self.state)
      self.batches = [mesh_lib.make_global_batches(batches[i:i + self.k], self.mesh)
                      for i in range(0, len(batches) - self.k + 1, self.k)]
    self.rng, self.log_every, self.i = jax.random.key(1), config.train.log_every_steps, 0
    with jax.set_mesh(self.mesh):
      self.flops = _flops(self.step if self.k == 1 else None, self.state, self.batches[0],
                          self.rng)

  def run(self, steps: int) -> None:
    import jax
    with jax.set_mesh(self.mesh):
      for _ in range(steps // self.k):
        self.state, metrics = self.step(self.state, self.batches[self.i % len(self.batches)],
                                        self.rng)
        self.i += 1
        if (self.i * self.k) % self.log_every == 0:
          jax.device_get(metrics)   # as the loop does when it logs
      jax.block_until_ready(self.state)


def _flops(step, state, batch, rng) -> float | None:
  """FLOPs of one call of the jitted `step` as XLA's cost analysis of the compiled step counts them
  (None if unavailable)."""
  if step is None:
    return None
  try:
    cost = step.lower(state, batch, rng).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return float(cost["flops"])
  except Exception:  # pylint: disable=broad-except
    return None


class MatmulPeak:
  """XLA's jitted float32 `[n, n] @ [n, n]`; `rate()` is GFLOP/s over a timed batch of calls."""

  def __init__(self, n: int):
    import jax
    import jax.numpy as jnp
    self.n = n
    key_a, key_b = jax.random.split(jax.random.key(0))
    self.a = jax.random.normal(key_a, (n, n), jnp.float32)
    self.b = jax.random.normal(key_b, (n, n), jnp.float32)
    self.matmul = jax.jit(lambda a, b: a @ b)
    self.run(3)

  def run(self, calls: int) -> float:
    import jax
    start = time.perf_counter()
    for _ in range(calls):
      out = self.matmul(self.a, self.b)
    jax.block_until_ready(out)
    return time.perf_counter() - start

  def rate(self, seconds: float = 1.0) -> float:
    calls = max(1, int(seconds / max(self.run(1), 1e-4)))
    return calls * 2 * self.n ** 3 / self.run(calls) / 1e9


class TorchStep:
  """The eager PyTorch twin on the same batches."""

  def __init__(self, config, batches, num_classes: int, compile_model: bool = False):
    from benchmarks import torch_reference as tr
    gc_after = tuple(config.model.gc_after) if config.model.gated else ()
    if config.model.name == "kws_dscnn":
      from gcnet.models.kws import KWS_DSCNN_SIZES
      first, blocks, strides = KWS_DSCNN_SIZES[config.model.size]
      model = tr.KwsDSCNN(num_classes, first, blocks, strides, gc_after,
                          frontend=dict(config.model.frontend),
                          gate_hidden=config.model.gc.gate_hidden,
                          spec_augment=dict(config.model.get("spec_augment") or {}))
    else:
      from gcnet.models.image_cnn import IMAGE_CNN_SIZES
      widths, convs, dense = IMAGE_CNN_SIZES[config.model.size]
      model = tr.GatedCNN(num_classes, widths, convs, dense, gc_after)
    self.trainer = tr.Trainer(model, config.train, dict(config.loss.terms), num_classes,
                              compile_model=compile_model,
                              gate_positive_weight=config.loss.get("gate_positive_weight", 1.0))
    self.batches = [tr.to_torch(b) for b in batches]
    self.log_every, self.i = config.train.log_every_steps, 0

  def run(self, steps: int) -> None:
    for _ in range(steps):
      loss, _ = self.trainer.step(*self.batches[self.i % len(self.batches)])
      self.i += 1
      if self.i % self.log_every == 0:
        loss.item()


def timed(runner, steps: int, batch_size: int) -> float:
  start = time.perf_counter()
  runner.run(steps)
  return steps * batch_size / (time.perf_counter() - start)


def main(argv=None):
  args = parse_args(argv)
  cpus = pin_threads(args.threads)   # before JAX (and its thread pool) starts
  variants = [v for v in args.variants.split(",") if v]
  unknown = sorted(set(variants) - set(VARIANTS))
  if unknown:
    raise SystemExit(f"unknown variants {unknown}; choose from {','.join(VARIANTS)}")
  torch_version, notes = None, {}
  if any(v.startswith("torch") for v in variants):
    try:
      import torch
      torch.set_num_threads(args.threads)
      torch.set_num_interop_threads(1)
      torch_version = torch.__version__
    except ImportError:
      print("PyTorch is not installed (pip install gcnet[bench]): skipping the torch variants.")
      variants = [v for v in variants if not v.startswith("torch")]
  load_start = os.getloadavg()
  data, data_desc = data_source(args)
  configs = {v: make_config(v, args, data) for v in variants if v != "matmul_peak"}
  batches = host_batches(make_config("bare_gc", args, data))
  runners = {}
  for v in list(variants):   # build, compile and warm up the in-memory runners once
    if v.startswith("bare"):
      runners[v] = BareStep(configs[v], batches)
    elif v.startswith("torch"):
      try:
        runners[v] = TorchStep(configs[v], batches, num_classes=4,
                               compile_model=v.endswith("_compile"))
        start = time.perf_counter()
        runners[v].run(args.warmup)
        if v.endswith("_compile"):
          notes[v] = f"torch.compile: compiled and warmed up in {time.perf_counter() - start:.0f} s"
        continue
      except Exception as e:  # pylint: disable=broad-except  (torch.compile may not work here)
        notes[v] = f"failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        print(f"{v}: {notes[v]}; skipped")
        variants.remove(v)
        runners.pop(v, None)
        continue
    elif v == "matmul_peak":
      runners[v] = MatmulPeak(args.matmul_n)
    if v in runners and v != "matmul_peak":
      runners[v].run(args.warmup)
  flops = {v: runners[v].flops for v in ("bare_gc", "bare_ungated") if v in runners}
  results = {v: [] for v in variants}
  loads = []
  for r in range(args.repeats):
    loads.append(os.getloadavg()[0])
    order = variants[r % len(variants):] + variants[:r % len(variants)]
    for v in order:
      if v.startswith("loop"):
        results[v].append(run_loop(configs[v]))
      elif v == "matmul_peak":
        results[v].append(runners[v].rate())
      else:
        results[v].append(timed(runners[v], args.steps, args.batch_size))
      unit = "GFLOP/s" if v == "matmul_peak" else "ex/s"
      print(f"repeat {r + 1}/{args.repeats} {v:16s} {results[v][-1]:9.0f} {unit}", flush=True)
  report = summarize(args, results, cpus, data_desc, load_start, torch_version)
  report["loadavg_per_repeat"] = loads
  report["notes"] = notes
  report["gflops"] = gflops(results, flops, args.batch_size)
  print_table(report)
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(report, f, indent=2)
  print(f"wrote {args.out}")


def gflops(results: dict, flops: dict, batch_size: int) -> dict:
  """Per model variant: FLOPs per example, GFLOP/s (median over repeats) and the fraction of the
  matmul peak, per repeat paired with the peak measured in the same repeat."""
  out = {"flops_per_example": {k: f / batch_size for k, f in flops.items() if f}}
  peak = results.get("matmul_peak")
  for v, runs in results.items():
    base = "bare_ungated" if "ungated" in v else "bare_gc"
    per_example = out["flops_per_example"].get(base)
    if v == "matmul_peak" or per_example is None:
      continue
    rates = [x * per_example / 1e9 for x in runs]
    row = {"median": statistics.median(rates)}
    if peak:
      fractions = [a / p for a, p in zip(rates, peak)]
      row["fraction_of_peak"] = statistics.median(fractions)
      row["fraction_per_repeat"] = fractions
    out[v] = row
  if peak:
    out["matmul_peak"] = {"median": statistics.median(peak), "runs": peak}
  return out


def summarize(args, results, cpus, data_desc, load_start, torch_version) -> dict:
  import jax
  ratios = {}
  for name, (num, den, target) in RATIOS.items():
    if num in results and den in results:
      paired = [a / b for a, b in zip(results[num], results[den])]
      median = statistics.median(paired)
      ratios[name] = {"median": median, "per_repeat": paired, "target": target,
                      "met": None if target is None else median >= target}
  return {
      "command": "python " + " ".join([os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:]),
      "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
      "machine": {"cpu": _cpu_model(), "cpus_visible": os.cpu_count(), "pinned_cpus": cpus,
                  "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
                  "python": platform.python_version()},
      "threads": {"xla": len(cpus), "torch": args.threads if torch_version else None},
      "jax_devices": len(jax.devices()),
      "versions": {"jax": jax.__version__, "torch": torch_version},
      "data": data_desc, "batch_size": args.batch_size, "model": args.model,
      "model_size": configs_size(args),
      "steps": args.steps, "warmup": args.warmup, "repeats": args.repeats,
      "examples_per_s": {v: {"median": statistics.median(x), "min": min(x), "max": max(x),
                             "runs": x} for v, x in results.items()},
      "ratios": ratios,
  }


def configs_size(args) -> str:
  return args.size or make_config("bare_gc", args, {}).model.size


def print_table(report: dict) -> None:
  print(f"\n{report['data']}; batch {report['batch_size']}; threads XLA={report['threads']['xla']}"
        f" torch={report['threads']['torch']}; load {report['machine']['loadavg_start'][0]:.1f}")
  g = report.get("gflops", {})
  print(f"{'variant':18s} {'ex/s median':>12s} {'min':>9s} {'max':>9s} {'GFLOP/s':>8s} {'of peak':>8s}")
  for v, s in report["examples_per_s"].items():
    rate = g.get(v, {}).get("median")
    frac = g.get(v, {}).get("fraction_of_peak")
    print(f"{v:18s} {s['median']:12.0f} {s['min']:9.0f} {s['max']:9.0f} "
          f"{'' if rate is None else f'{rate:8.2f}'} {'' if frac is None else f'{frac:8.3f}'}")
  for v, note in report.get("notes", {}).items():
    print(f"{v}: {note}")
  print(f"\n{'ratio':26s} {'median':>7s} {'target':>7s}  per repeat")
  for name, r in report["ratios"].items():
    target = "" if r["target"] is None else f">={r['target']:.2f}"
    mark = "" if r["met"] is None else ("met" if r["met"] else "MISSED")
    print(f"{name:26s} {r['median']:7.2f} {target:>7s}  "
          f"{', '.join(f'{x:.2f}' for x in r['per_repeat'])}  {mark}")


def _cpu_model() -> str:
  try:
    with open("/proc/cpuinfo") as f:
      return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
  except (OSError, StopIteration):
    return platform.processor()


if __name__ == "__main__":
  main()
