"""bfloat16 against float32 training steps of the image, keyword and codec models, side by side.

  python benchmarks/mixed_precision.py                           # CPU sizes
  python benchmarks/mixed_precision.py --sizes=image:medium,keyword:small,codec:small \
      --batch=image:256,keyword:128,codec:16 --steps=50 --train_steps=200   # an accelerator

For each family (`benchmarks/precision_families.py`), the model is built twice from one config,
computing in float32 and in bfloat16 (`config.train.compute_dtype`; parameters float32 in both), and
trained from the same initial parameters on the same batch:

- steps/s of the jitted Adam step, rounds interleaved (f32 then bf16, then again), medians; the
  ratio bf16 / f32 of the step time (< 1: bf16 faster);
- loss agreement: the two losses after `--train_steps` steps each, and their relative difference;
- the bf16 step's FLOP rate (XLA's cost analysis of the step / its time) as a share of the
  measured bf16 matmul peak of this device (`--peak_size`-square `jnp.dot`, best of 5).

Writes a table and JSON (`--out`).
"""

import argparse
import os
import statistics
import sys
import time


def _pairs(text: str, cast):
  return {k: cast(v) for k, v in (item.split(":") for item in text.split(",") if item)}


def _args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--families", default="image,keyword,codec")
  parser.add_argument("--sizes", default="image:small,keyword:small,codec:small")
  parser.add_argument("--batch", default="image:64,keyword:32,codec:4")
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--steps", type=int, default=10, help="timed steps per round and variant")
  parser.add_argument("--train_steps", type=int, default=30, help="steps before comparing losses")
  parser.add_argument("--peak_size", type=int, default=1024)
  parser.add_argument("--out", default="benchmarks/results/mixed_precision.json")
  return parser.parse_args(argv)


def matmul_peak(size: int) -> float:
  """Measured bf16 FLOP/s of a `size x size` matmul on the default device (best of 5)."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  a = jnp.ones((size, size), jnp.bfloat16)
  dot = jax.jit(lambda a: a @ a)
  dot(a).block_until_ready()
  best = float("inf")
  for _ in range(5):
    start = time.perf_counter()
    dot(a).block_until_ready()
    best = min(best, time.perf_counter() - start)
  return 2.0 * size ** 3 / best


def measure(family: str, size: str, batch: int, args) -> dict:
  import jax  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top
  from benchmarks import precision_families as families  # pylint: disable=g-import-not-at-top
  from gcnet import models  # pylint: disable=g-import-not-at-top
  from gcnet.models.xla_cost import xla_flops  # pylint: disable=g-import-not-at-top

  config, num_classes, x, y, data = families.setup(family, size, batch)
  optimizer = optax.adam(1e-3)
  runs = {}
  for dtype in ("float32", "bfloat16"):
    model = models.build(config.model, num_classes, dtype)
    params, state = families.init(family, models.build(config.model, num_classes), x)
    step = families.train_step(families.loss_fn(family, model), optimizer)
    runs[dtype] = {"step": step, "carry": (params, optimizer.init(params), state),
                   "flops": xla_flops(step, params, optimizer.init(params), state, x, y)}

  def run(dtype, n):
    params, opt_state, state = runs[dtype]["carry"]
    for _ in range(n):
      params, opt_state, state, loss, _ = runs[dtype]["step"](params, opt_state, state, x, y)
    jax.block_until_ready(loss)
    runs[dtype]["carry"] = (params, opt_state, state)
    return float(loss)

  losses = {dtype: run(dtype, args.train_steps) for dtype in runs}
  times = {dtype: [] for dtype in runs}
  for _ in range(args.rounds):
    for dtype in runs:
      start = time.perf_counter()
      run(dtype, args.steps)
      times[dtype].append((time.perf_counter() - start) / args.steps)
  ratio = statistics.median(b / f for b, f in zip(times["bfloat16"], times["float32"]))
  step_s = {dtype: statistics.median(t) for dtype, t in times.items()}
  return {"family": family, "size": size, "batch": batch, "data": data,
          "steps_per_s": {d: 1.0 / t for d, t in step_s.items()}, "bf16_over_f32_time": ratio,
          "loss_after_train_steps": losses, "train_steps": args.train_steps,
          "loss_rel_diff": abs(losses["bfloat16"] - losses["float32"]) / abs(losses["float32"]),
          "step_flops": runs["bfloat16"]["flops"],
          "bf16_flops_per_s": runs["bfloat16"]["flops"] / step_s["bfloat16"], "rounds_s": times}


def main(argv=None):
  args = _args(argv)
  import jax  # pylint: disable=g-import-not-at-top
  from gcnet.eval import bench_record  # pylint: disable=g-import-not-at-top
  sizes, batches = _pairs(args.sizes, str), _pairs(args.batch, int)
  peak = matmul_peak(args.peak_size)
  rows = [measure(f, sizes[f], batches[f], args) for f in args.families.split(",")]
  for row in rows:
    row["share_of_bf16_matmul_peak"] = row["bf16_flops_per_s"] / peak
  print(f"device: {jax.devices()[0].device_kind}; bf16 matmul peak {peak / 1e9:.1f} GFLOP/s")
  print(f"{'family':<8} {'size':<7} {'batch':>5} {'f32 st/s':>9} {'bf16 st/s':>9} "
        f"{'bf16/f32 t':>10} {'loss f32':>9} {'loss bf16':>9} {'rel diff':>8} {'peak %':>7}")
  for r in rows:
    print(f"{r['family']:<8} {r['size']:<7} {r['batch']:>5} {r['steps_per_s']['float32']:>9.2f} "
          f"{r['steps_per_s']['bfloat16']:>9.2f} {r['bf16_over_f32_time']:>10.2f} "
          f"{r['loss_after_train_steps']['float32']:>9.4f} "
          f"{r['loss_after_train_steps']['bfloat16']:>9.4f} {r['loss_rel_diff']:>8.3f} "
          f"{100 * r['share_of_bf16_matmul_peak']:>6.2f}%")
  result = bench_record.record(bf16_matmul_peak_flops=peak, peak_size=args.peak_size, rows=rows)
  bench_record.write(args.out, result)
  return result


if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  main()
