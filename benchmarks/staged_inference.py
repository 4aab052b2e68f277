"""Staged inference of a trained GC run: expected vs realized time per sample, gated vs ungated.

  python benchmarks/staged_inference.py --workdir=runs/fmnist_gc \
      [--baseline_workdir=runs/fmnist_base]

For each batch size (default 1, i.e. streaming one sample at a time, and 256) on test samples:

- stage times `t_i(b)`: each stage alone, as staged inference calls it (gcnet.eval.timing);
- reach `r_i`: fraction of the streamed samples that ran stage `i` (measured by the runner);
- **expected** s/sample `= sum_i r_i t_i(b) / b` (a stage's time scales linearly with its samples);
- **bucketed** s/sample: the same with the back timed at the bucket sizes it really ran on (what
  remains of the gap to realized is host overhead: gate round trip, gather, scatter);
- **realized** s/sample: wall time of `StagedRunner` over the stream / samples (at batch 1 its
  streaming call `run_one`, one sample at a time);
- **ungated** s/sample: the same stream through the whole model in one jitted call (every stage,
  the back on every sample), or through the baseline run's model with --baseline_workdir.

Every quantity is measured with the wall clock and with this process's CPU time
(`time.process_time`, all threads), which other processes on a shared machine disturb much less;
rounds are interleaved (stages, staged, ungated, both clocks, then again) and medians reported.
FLOPs (XLA) expected vs ungated are reported beside the times. Saves JSON
to --output (default WORKDIR/staged_inference.json).
"""

import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

flags.DEFINE_string("workdir", None, "The trained GC run.")
flags.DEFINE_string("baseline_workdir", "", "An ungated run whose model is the ungated reference.")
flags.DEFINE_list("batch_sizes", ["1", "256"], "Batch sizes to stream at.")
flags.DEFINE_integer("num_samples", 2048, "Test samples streamed at batch sizes > 1.")
flags.DEFINE_integer("stream_samples", 512, "Test samples streamed at batch size 1.")
flags.DEFINE_integer("rounds", 5, "Interleaved measurement rounds (medians are reported).")
flags.DEFINE_integer("bucket_step", 0, "0: power-of-two buckets; else see gcnet.ops.buckets.")
flags.DEFINE_list("theta", [], "Per-gate thresholds (default: the run's calibrated ones).")
flags.DEFINE_string("output", "", "JSON output ('': WORKDIR/staged_inference.json).")
flags.mark_flags_as_required(["workdir"])


def _ungated_fn(staged, baseline_workdir):
  import jax  # pylint: disable=g-import-not-at-top
  from gcnet import runtime  # pylint: disable=g-import-not-at-top
  if not baseline_workdir:
    return staged.full, "the GC model with every stage run (back on every sample)"
  base = runtime.load_run(baseline_workdir, with_dataset=False)
  fn = jax.jit(lambda p, x: base.model.apply({"params": p}, x))
  return (lambda x: fn(base.params, x)), f"baseline run {baseline_workdir}"


def _stage_time(runner, stage, stage_inputs, rows, clock) -> float:
  """Seconds per call of `stage` alone on `rows` rows (stage inputs hold a batch of samples)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from gcnet.eval import timing  # pylint: disable=g-import-not-at-top
  x = stage_inputs[stage]
  if stage == 0:
    x = np.resize(x, (rows,) + x.shape[1:])       # repeats samples up to `rows`
    return timing.time_call(runner.run_stage, 0, x, clock=clock)
  return timing.time_call(runner.run_stage, stage, x, np.arange(rows, dtype=np.int32) % len(x),
                          clock=clock)


def _round(runner, staged_run, ungated, stage_inputs, inputs, batch, clock) -> dict:
  """One measurement of every quantity with `clock`, plus the runner's counts of the stream."""
  from gcnet.eval import timing  # pylint: disable=g-import-not-at-top
  stages = [_stage_time(runner, i, stage_inputs, batch, clock) for i in range(len(stage_inputs))]
  runner.reset_counts()
  realized = timing.time_stream(staged_run, inputs, batch, clock)
  counts = {"bucket_calls": [dict(c) for c in runner.bucket_calls],
            "samples": list(runner.samples), "calls": list(runner.calls)}
  bucketed = sum(n * (stages[i] if size == batch else
                      _stage_time(runner, i, stage_inputs, size, clock))
                 for i, calls in enumerate(counts["bucket_calls"]) for size, n in calls.items())
  return {"stages": stages, "realized": realized, "bucketed": bucketed / len(inputs),
          "ungated": timing.time_stream(ungated, inputs, batch, clock), "counts": counts}


def _summary(rounds: list[dict], reach, batch) -> dict:
  from gcnet.eval import timing  # pylint: disable=g-import-not-at-top
  stages = [statistics.median(r["stages"][i] for r in rounds) for i in range(len(reach))]
  med = {k: statistics.median(r[k] for r in rounds) for k in ("realized", "ungated", "bucketed")}
  expected = timing.expected_time(stages, reach, batch)
  return {"stage_seconds_per_call": stages, "expected_s_per_sample": expected,
          "bucketed_s_per_sample": med["bucketed"], "realized_s_per_sample": med["realized"],
          "ungated_s_per_sample": med["ungated"],
          "realized_over_expected": med["realized"] / expected,
          "realized_over_bucketed": med["realized"] / med["bucketed"],
          "expected_saving": med["ungated"] / expected,
          "realized_saving": med["ungated"] / med["realized"],
          "rounds": [{k: v for k, v in r.items() if k != "counts"} for r in rounds]}


def measure_batch(staged, thetas, ungated, inputs, labels, batch, rounds, bucket_step) -> dict:
  """All timings at one batch size, with the wall clock and with this process's CPU time."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from gcnet import runtime  # pylint: disable=g-import-not-at-top
  from gcnet.eval import timing  # pylint: disable=g-import-not-at-top
  runner = runtime.StagedRunner(staged, thetas, max_batch=batch, bucket_step=bucket_step)
  num = (len(inputs) // batch) * batch
  inputs, labels = inputs[:num], labels[:num]
  stage_inputs = [inputs[:batch]]                    # stage i's input at batch b (no gating)
  for i in range(staged.num_gates):
    stage_inputs.append(staged.stage(i)(stage_inputs[-1])[0])
  if batch == 1:  # streaming: the runner's one-sample API (same computation, less bookkeeping)
    staged_run = lambda x: runner.run_one(x[0])[0]
  else:
    staged_run = lambda x: runner(x).predictions
  timing.time_stream(staged_run, inputs, batch)       # warm-up: compiles every bucket it meets
  timing.time_stream(ungated, inputs, batch)
  measured = {"wall": [], "cpu": []}
  for _ in range(rounds):                            # interleaved: both clocks every round
    for clock, results in measured.items():
      results.append(_round(runner, staged_run, ungated, stage_inputs, inputs, batch, clock))
  counts = measured["wall"][-1]["counts"]
  samples = counts["samples"]
  reach = [s / samples[0] for s in samples]
  out = runner(inputs)
  negative = labels == out.logits.shape[-1] - 1
  result = {
      "batch_size": batch, "samples": num, "rounds": rounds,
      "stop_rate": float(np.mean(out.stopped_at[negative] < staged.num_gates)),
      "pass_rate": reach[-1], "reach": reach, "stages": list(staged.names),
      "stage_calls": dict(zip(staged.names, counts["calls"])),
      "stage_samples": dict(zip(staged.names, samples)),
      "bucket_calls": {n: {str(k): v for k, v in sorted(c.items())}
                       for n, c in zip(staged.names, counts["bucket_calls"])},
      "compiles": dict(zip(staged.names, runner.traces)),
  }
  for clock, results in measured.items():
    result[clock] = _summary(results, reach, batch)
  result.update({k: v for k, v in result["wall"].items() if k != "rounds"})  # wall at top level
  return result


def run_benchmark(workdir, baseline_workdir="", batch_sizes=(1, 256), num_samples=2048,
                  stream_samples=512, rounds=5, bucket_step=0, theta=()) -> dict:
  import jax  # pylint: disable=g-import-not-at-top
  from gcnet import runtime  # pylint: disable=g-import-not-at-top
  run = runtime.load_run(workdir)
  staged = runtime.StagedModel(run.model, run.params)
  thetas, source = run.thetas([float(t) for t in theta] if theta else None)
  data = run.split_inputs("test", max(num_samples, stream_samples))
  test_preds = run.split_predictions("test")
  ungated, ungated_name = _ungated_fn(staged, baseline_workdir)
  from gcnet.eval import compute  # pylint: disable=g-import-not-at-top
  if baseline_workdir:
    base = runtime.load_run(baseline_workdir, with_dataset=False)
    base_costs = compute.stage_costs(base.model, base.params, data["inputs"][:1])
  else:
    base_costs = compute.ungated_costs(run.config, run.model.num_classes, data["inputs"][:1])
  costs = runtime.deployment_costs(run.model, run.params, data["inputs"][:1], test_preds, thetas,
                                  base_costs)
  result = {"workdir": str(workdir), "experiment": run.config.experiment, "step": run.step,
            "thetas": thetas, "theta_source": source, "ungated": ungated_name,
            "device": str(jax.devices()[0]), "bucket_step": bucket_step,
            "flops": {k: costs[k] for k in ("parts", "expected_flops", "ungated_flops",
                                            "saving_ratio", "stop_rate", "pass_rate", "boundary")},
            "batches": []}
  for b in batch_sizes:
    n = stream_samples if b == 1 else num_samples
    result["batches"].append(measure_batch(staged, thetas, ungated, data["inputs"][:n],
                                           data["label"][:n], int(b), rounds, bucket_step))
  return result


def format_result(result: dict) -> str:
  f = result["flops"]
  lines = [f"{result['experiment']} @ step {result['step']} on {result['device']}; thetas "
           f"{[round(t, 4) for t in result['thetas']]} ({result['theta_source']}); ungated: "
           f"{result['ungated']}",
           f"FLOPs/sample (XLA, test): expected {f['expected_flops']['xla']:.4g} at stop rate "
           f"{f['stop_rate']:.3f}, pass rate {f['pass_rate']:.3f}; ungated "
           f"{f['ungated_flops']['xla']:.4g} -> {f['saving_ratio']['xla']:.2f}x",
           f"{'clock':>5s}{'batch':>6s}{'pass':>7s}{'expected us':>13s}{'bucketed us':>13s}"
           f"{'realized us':>13s}"
           f"{'ungated us':>12s}{'real/exp':>10s}{'saving exp':>12s}{'saving real':>13s}"]
  for clock in ("wall", "cpu"):
    for b in result["batches"]:
      c = b[clock]
      lines.append(f"{clock:>5s}{b['batch_size']:>6d}{b['pass_rate']:>7.3f}"
                   f"{c['expected_s_per_sample'] * 1e6:>13.2f}"
                   f"{c['bucketed_s_per_sample'] * 1e6:>13.2f}"
                   f"{c['realized_s_per_sample'] * 1e6:>13.2f}"
                   f"{c['ungated_s_per_sample'] * 1e6:>12.2f}"
                   f"{c['realized_over_expected']:>10.3f}{c['expected_saving']:>11.2f}x"
                   f"{c['realized_saving']:>12.2f}x")
  return "\n".join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)
  f = flags.FLAGS
  result = run_benchmark(f.workdir, f.baseline_workdir, [int(b) for b in f.batch_sizes],
                         f.num_samples, f.stream_samples, f.rounds, f.bucket_step, f.theta)
  print(format_result(result))
  output = f.output or os.path.join(f.workdir, "staged_inference.json")
  with open(output, "w") as fh:
    fh.write(json.dumps(result, indent=2))
  print(f"wrote {output}")


if __name__ == "__main__":
  app.run(main)
