"""Leave-one-speaker-out (LOSO) evaluation of the FSDD keyword spotter: runs the folds, writes a table.

  python -m launch.loso --workdir=runs/loso [--folds=george,theo] [--variants=baseline,gc] \
      [-- --config.train.num_steps=1000]
  python -m launch.loso --workdir=runs/loso --table_only --out=docs/results/fsdd_kws_loso

Fold `s` holds speaker `s` out as the test speaker and the next speaker in sorted order as the
validation speaker (theta is calibrated there, on a voice trained on neither), and trains on the
other four: `--config.data.split=speaker_held_out`. Each fold runs the ungated baseline, then the
GC model (`--config.eval.baseline_workdir` pointing at the fold's baseline), one process at a time,
in `WORKDIR/<speaker>/<variant>`. A fold whose `report.json` exists is skipped, so the script
resumes where it stopped and can be run in chunks (`--folds`).

The table (`--out` + `.md` and `.json`): per fold and variant the test speaker's end-to-end accuracy
at the calibrated theta, keyword recall (windows the gate passes), the stop rate of negatives, the
validation recall and theta, and the expected compute saving; then the mean and the sample standard
deviation over the folds that have finished.
"""

import argparse
import json
import os
import statistics
import sys
from typing import Optional, Sequence

from launch import local

SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
VARIANTS = {"baseline": "experiments/fsdd_kws_baseline.py", "gc": "experiments/fsdd_kws_gc.py"}
REPORT = "report.json"


def fold_speakers(test: str, speakers: Sequence[str] = SPEAKERS) -> tuple[str, str]:
  """`(test, validation)`: the validation speaker is the next one after `test` (cyclically)."""
  if test not in speakers:
    raise ValueError(f"Unknown speaker {test!r}; speakers: {', '.join(speakers)}.")
  order = sorted(speakers)
  return test, order[(order.index(test) + 1) % len(order)]


def fold_args(test: str, variant: str, workdir: str, source_dir: str) -> list[str]:
  """The `gcnet.cli.train` flags of one fold and variant."""
  test, val = fold_speakers(test)
  args = [f"--config.data.split=speaker_held_out",
          f"--config.data.test_speakers=('{test}',)",
          f"--config.data.validation_speakers=('{val}',)"]
  if source_dir:
    args.append(f"--config.data.source_dir={source_dir}")
  if variant == "gc":
    args.append(f"--config.eval.baseline_workdir={os.path.join(workdir, test, 'baseline')}")
  return args


def run_folds(workdir: str, folds, variants, source_dir: str, extra: Sequence[str] = (),
              dry_run: bool = False) -> int:
  """Runs every missing (fold, variant); returns the first non-zero exit status, else 0."""
  for test in folds:
    for variant in variants:
      run_dir = os.path.join(workdir, test, variant)
      if os.path.exists(os.path.join(run_dir, REPORT)):
        print(f"[loso] {test}/{variant}: done, skipped", flush=True)
        continue
      print(f"[loso] {test}/{variant}: training in {run_dir}", flush=True)
      rc = local.run_local(VARIANTS[variant], run_dir,
                           fold_args(test, variant, workdir, source_dir) + list(extra),
                           dry_run=dry_run)
      if rc:
        return rc
  return 0


def fold_row(report: dict) -> dict:
  """The table's numbers from one run's report.json (see gcnet/eval/report.py)."""
  cal = report.get("calibrated") or report.get("default") or {}
  row = {
      "accuracy": cal.get("accuracy"),
      "ungated_accuracy": report.get("ungated_accuracy", cal.get("ungated_accuracy")),
      "keyword_recall": cal.get("positive_recall"),
      "stop_rate": cal.get("stop_rate"),
      "theta": _first(cal.get("theta")),
      "validation_recall": cal.get("validation_recall"),
      "saving": cal.get("saving_vs_ungated"),
  }
  return row


def _first(x):
  return x[0] if isinstance(x, (list, tuple)) and x else x


def collect(workdir: str, folds=SPEAKERS, variants=tuple(VARIANTS)) -> dict:
  """`{"folds": {speaker: {variant: row}}, "summary": {variant: {metric: {mean, std, n}}}}`."""
  table = {}
  for test in folds:
    for variant in variants:
      path = os.path.join(workdir, test, variant, REPORT)
      if os.path.exists(path):
        with open(path) as f:
          table.setdefault(test, {})[variant] = fold_row(json.load(f))
  summary = {}
  for variant in variants:
    rows = [table[t][variant] for t in table if variant in table[t]]
    summary[variant] = {}
    for key in (rows[0] if rows else {}):
      values = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
      if values:
        summary[variant][key] = {"mean": statistics.fmean(values), "n": len(values),
                                 "std": statistics.stdev(values) if len(values) > 1 else 0.0}
  return {"folds": table, "summary": summary}


def to_markdown(result: dict) -> str:
  """A per-fold table with the mean ± std of each variant."""
  cols = ("accuracy", "keyword_recall", "stop_rate", "validation_recall", "theta", "saving")
  lines = ["| test speaker (validation) | variant | " + " | ".join(cols) + " |",
           "| --- | --- | " + " | ".join("---" for _ in cols) + " |"]
  fmt = lambda v: "" if v is None else f"{v:.3f}"
  for test, by_variant in result["folds"].items():
    for variant, row in by_variant.items():
      lines.append(f"| {test} ({fold_speakers(test)[1]}) | {variant} | "
                   + " | ".join(fmt(row.get(c)) for c in cols) + " |")
  for variant, stats in result["summary"].items():
    cells = [f"{stats[c]['mean']:.3f} ± {stats[c]['std']:.3f}" if c in stats else "" for c in cols]
    n = max((s["n"] for s in stats.values()), default=0)
    lines.append(f"| **mean ± std ({n} folds)** | {variant} | " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
  argv = list(sys.argv[1:] if argv is None else argv)
  extra = argv[argv.index("--") + 1:] if "--" in argv else []
  argv = argv[:argv.index("--")] if "--" in argv else argv
  p = argparse.ArgumentParser(prog="python -m launch.loso", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--workdir", required=True)
  p.add_argument("--folds", default=",".join(SPEAKERS), help="test speakers to run")
  p.add_argument("--variants", default="baseline,gc")
  p.add_argument("--source_dir", default="", help="FSDD recordings ('' : the config default)")
  p.add_argument("--out", default="", help="table path without extension ('': WORKDIR/loso)")
  p.add_argument("--table_only", action="store_true", help="only collect finished folds")
  p.add_argument("--dry_run", action="store_true", help="print the commands only")
  args = p.parse_args(argv)
  folds = [s for s in args.folds.split(",") if s]
  variants = [v for v in args.variants.split(",") if v]
  unknown = sorted(set(variants) - set(VARIANTS)) + sorted(set(folds) - set(SPEAKERS))
  if unknown:
    p.error(f"unknown folds or variants {unknown}; speakers {SPEAKERS}, variants {tuple(VARIANTS)}")
  rc = 0
  if not args.table_only:
    rc = run_folds(args.workdir, folds, variants, args.source_dir, extra, args.dry_run)
  if args.dry_run:
    return rc
  result = collect(args.workdir, SPEAKERS, variants)
  out = args.out or os.path.join(args.workdir, "loso")
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  with open(out + ".json", "w") as f:
    json.dump(result, f, indent=2)
  with open(out + ".md", "w") as f:
    f.write(to_markdown(result))
  print(to_markdown(result))
  return rc


if __name__ == "__main__":
  sys.exit(main())
