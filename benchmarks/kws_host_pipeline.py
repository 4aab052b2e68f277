"""Host-side cost of the keyword spotter's training examples (augmentation on the CPU), per config.

  python benchmarks/kws_host_pipeline.py [--batches=20] [--options=,voices,negatives,levels]

The training loop's examples/s is bounded by the slower of the jitted step and the host building
augmented windows (`KwsWindows.augmented_batch`: speed/pitch variant, gain, shift, reverberation,
background mix, bed). This times the host part alone, in one thread, for the default config and for
each `experiments/fsdd_kws_gc.py` option set (comma lists separated by ';'), after one untimed
batch per config (the pitch/speed cache fills over an epoch, so the first epoch is slower: the
`cold` column times batches of never-seen clips). With `--profile`, the top functions by
cumulative time (cProfile). Table on stdout, JSON to `--out`.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def _dataset(options: str):
  from experiments import fsdd_kws_gc  # pylint: disable=g-import-not-at-top
  from gcnet.data.audio import fsdd  # pylint: disable=g-import-not-at-top
  config = fsdd_kws_gc.get_config(options)
  with config.unlocked():
    config.data.split = "speaker_held_out"
  return fsdd.fsdd(config.data)


def time_batches(source, batches: int, batch_size: int, epoch: int, seed: int = 0) -> float:
  """Examples/s of `batches` batches of random indices of `epoch`."""
  rng = np.random.default_rng(epoch)
  start = time.perf_counter()
  for _ in range(batches):
    idx = rng.integers(len(source), size=batch_size)
    source.augmented_batch(idx, [epoch] * batch_size, seed)
  return batches * batch_size / (time.perf_counter() - start)


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--batches", type=int, default=20)
  p.add_argument("--batch_size", type=int, default=128)
  p.add_argument("--options", default=";voices,negatives,levels",
                 help="';'-separated option sets of experiments/fsdd_kws_gc.py ('' : default)")
  p.add_argument("--profile", action="store_true")
  p.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results",
                                               "kws_host_pipeline.json"))
  args = p.parse_args(argv)
  rows = []
  for options in args.options.split(";"):
    source = _dataset(options).source("train")
    time_batches(source, 1, args.batch_size, epoch=0)           # warm the banks
    cold = time_batches(source, args.batches, args.batch_size, epoch=1)
    warm = time_batches(source, args.batches, args.batch_size, epoch=1)
    row = {"options": options or "(default)", "train_windows": len(source),
           "cold_ex_per_s": cold, "warm_ex_per_s": warm}
    if args.profile:
      prof = cProfile.Profile()
      prof.runcall(time_batches, source, args.batches, args.batch_size, 2)
      text = io.StringIO()
      pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(18)
      row["profile"] = text.getvalue()
    rows.append(row)
  print(f"load average: {os.getloadavg()}")
  print("| config options | train windows | host ex/s, first epoch (cold caches) | host ex/s, "
        "repeated (warm) |\n| --- | --- | --- | --- |")
  for r in rows:
    print(f"| {r['options']} | {r['train_windows']} | {r['cold_ex_per_s']:.0f} | "
          f"{r['warm_ex_per_s']:.0f} |")
  for r in rows:
    if "profile" in r:
      print(f"\n## {r['options']}\n{r['profile']}")
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump({"load_average": os.getloadavg(), "rows": rows}, f, indent=1)
  return 0


if __name__ == "__main__":
  sys.exit(main())
