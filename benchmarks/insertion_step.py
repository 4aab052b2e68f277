"""What a GC layer costs inside someone else's model: flax's mnist CNN (NNX) training step with
`gcnet.insert.insert_gc` after `conv1` and its loss terms, against the same step without them.

  python benchmarks/insertion_step.py --rounds=7 --steps=30 --batch_sizes=32,128

Variants, interleaved (every round runs `--steps` steps of each, the order rotating per round):

  base_nnxjit   the CNN's step as flax's tutorial writes it: `@nnx.jit def step(model, opt, x, y)`
  gc_nnxjit     the same with the GC layer: `nnx.capture` + `gated.loss_terms` (gate BCE and L1)
  base_cached   the CNN's step through `nnx.cached_partial(step, model, opt)`
  gc_cached     the GC step through `nnx.cached_partial`

Where the time goes (issue 23 reported ~1.75x per epoch for a hand-inserted `GatedCompressionNNX`
with `nnx.capture`; not reproduced here, see docs/benchmarks.md): (1) `nnx.jit` flattens and
unflattens the model and optimizer graph in Python on every call, a cost that grows with the number
of variables, and the GC layer adds 4 parameters and 8 Adam moments to the CNN's 26 leaves (+46%):
at batch 1, where the step is nearly all per-call work, `nnx.jit` costs ~1.8 ms more than
`nnx.cached_partial`; (2) the layer's own compute: the soft threshold, the gate's global pooling and
the L1 term are elementwise passes over `conv1`'s output `[B, 28, 28, 32]` (and their backward,
with two reductions to `[32]` for the scale and threshold gradients): ~2% of the step's FLOPs but
memory-bound, so 10-17% of its time on this CPU. `nnx.capture` itself costs nothing at run time (it
acts while tracing).

Inputs are random images (timing only). Ratios are per round (same moment, same load), reported as
medians. Output: a table, and JSON (`--out`) with the command, load, versions and every round.
"""

import argparse
import functools
import os
import statistics
import time


def _args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--rounds", type=int, default=7)
  parser.add_argument("--steps", type=int, default=30)
  parser.add_argument("--warmup", type=int, default=3)
  parser.add_argument("--batch_sizes", default="32,128")
  parser.add_argument("--threads", type=int, default=1, help="CPUs the process may use (0: all)")
  parser.add_argument("--out", default="benchmarks/results/insertion_step.json")
  return parser.parse_args(argv)


def main(argv=None):
  args = _args(argv)
  if args.threads and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:args.threads])
  import jax  # pylint: disable=g-import-not-at-top  (after pinning the CPUs)
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top
  from flax import nnx  # pylint: disable=g-import-not-at-top
  from gcnet.eval import bench_record  # pylint: disable=g-import-not-at-top
  from gcnet.insert import insert_gc  # pylint: disable=g-import-not-at-top

  class CNN(nnx.Module):
    """flax's examples/mnist CNN in NNX: two conv + average-pool blocks, two dense layers."""

    def __init__(self, *, rngs):
      self.conv1 = nnx.Conv(1, 32, kernel_size=(3, 3), rngs=rngs)
      self.conv2 = nnx.Conv(32, 64, kernel_size=(3, 3), rngs=rngs)
      self.avg_pool = functools.partial(nnx.avg_pool, window_shape=(2, 2), strides=(2, 2))
      self.linear1 = nnx.Linear(3136, 256, rngs=rngs)
      self.linear2 = nnx.Linear(256, 10, rngs=rngs)

    def __call__(self, x):
      x = self.avg_pool(nnx.relu(self.conv1(x)))
      x = self.avg_pool(nnx.relu(self.conv2(x)))
      x = x.reshape(x.shape[0], -1)
      return self.linear2(nnx.relu(self.linear1(x)))

  def make(gated: bool, cached: bool, batch: int):
    model = CNN(rngs=nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(0).random((batch, 28, 28, 1), np.float32))
    y = jnp.asarray(np.random.default_rng(1).integers(0, 10, batch))
    gc = insert_gc(model, "conv1", x[:1], rngs=nnx.Rngs(1)) if gated else None
    optimizer = nnx.Optimizer(model, optax.adamw(1e-3, 0.9), wrt=nnx.Param)

    def loss_fn(model):
      if gc is None:
        logits, extra = model(x), 0.0
      else:
        logits, sown = nnx.capture(model, nnx.Intermediate)(x)
        terms = gc.loss_terms(sown, y >= 5)
        extra = 0.5 * terms["gate_bce"] + 0.01 * terms["compression_l1"]
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean() + extra

    @nnx.jit
    def step(model, optimizer):
      loss, grads = nnx.value_and_grad(loss_fn)(model)
      optimizer.update(model, grads)
      return loss

    leaves = len(jax.tree.leaves(nnx.state((model, optimizer))))
    if cached:
      return nnx.cached_partial(step, model, optimizer), leaves
    return functools.partial(step, model, optimizer), leaves

  rows, rounds_out = [], {}
  names = ["base_nnxjit", "gc_nnxjit", "base_cached", "gc_cached"]
  for batch in [int(b) for b in args.batch_sizes.split(",")]:
    fns, leaves = {}, {}
    for name in names:
      fns[name], leaves[name] = make(name.startswith("gc"), name.endswith("cached"), batch)
      for _ in range(args.warmup):
        fns[name]().block_until_ready()
    times = {name: [] for name in names}
    for r in range(args.rounds):
      order = names[r % len(names):] + names[:r % len(names)]
      for name in order:
        start = time.perf_counter()
        for _ in range(args.steps):
          loss = fns[name]()
        loss.block_until_ready()
        times[name].append((time.perf_counter() - start) / args.steps * 1e3)
    ratio = {mode: statistics.median(g / b for g, b in zip(times[f"gc_{mode}"],
                                                         times[f"base_{mode}"]))
             for mode in ("nnxjit", "cached")}
    rounds_out[batch] = times
    for name in names:
      mode = name.split("_")[1]
      rows.append({"batch": batch, "variant": name, "leaves": leaves[name],
                   "ms_per_step": statistics.median(times[name]),
                   "gc_over_base": ratio[mode] if name.startswith("gc") else None})

  print(f"{'batch':>5} {'variant':<12} {'leaves':>6} {'ms/step':>8} {'gc/base':>8}")
  for row in rows:
    ratio = f"{row['gc_over_base']:.3f}" if row["gc_over_base"] else ""
    print(f"{row['batch']:>5} {row['variant']:<12} {row['leaves']:>6} "
          f"{row['ms_per_step']:>8.2f} {ratio:>8}")
  result = bench_record.record(rows=rows, rounds_ms=rounds_out, threads=args.threads)
  bench_record.write(args.out, result)
  return result


if __name__ == "__main__":
  main()
