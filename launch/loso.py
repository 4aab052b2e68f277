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

Always-on streams (`--streams_dir=DIR`): each fold's GC run streams `DIR/<speaker>.wav` (a
`gcnet.cli.make_stream` recording of the test speaker, truth beside it) and `--background` (a
keyword-free `gcnet.cli.make_background` recording) through `gcnet.runtime.keywords.predict`
(`python -m gcnet.cli.predict --stream`), writes `stream.json` into the run, and the table gets a
second part: keywords detected, recall, mean latency, false alarms on the speaker's stream, and on
the background recording false alarms per hour, the fraction of windows the gate stopped and the
compute saving.
"""

import argparse
import json
import os
import statistics
import sys
from typing import Optional, Sequence

from gcnet.train.run_dir import has_report, read_report
from launch import local

SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
VARIANTS = {"baseline": "experiments/fsdd_kws_baseline.py", "gc": "experiments/fsdd_kws_gc.py"}


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
      if has_report(run_dir):
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
  """The table's numbers from one run's report.json (`gcnet.eval.report`), at the calibrated theta:
  end-to-end accuracy, the ungated accuracy (back on every window), the gate's keyword recall and
  stop rate of negatives, the end-to-end keyword recall (mean over the keyword classes), the
  validation recall, theta and the expected compute saving."""
  cal = report["gating"]["calibrated"]
  per_class = cal.get("per_class_recall") or []
  return {
      "accuracy": cal.get("accuracy"),
      "ungated_accuracy": report.get("ungated_accuracy"),
      "keyword_recall": cal.get("positive_recall"),
      "stop_rate": cal.get("stop_rate"),
      "e2e_keyword_recall": (statistics.fmean(per_class[:-1]) if len(per_class) > 1 else None),
      "validation_recall": cal.get("validation_recall"),
      "theta": _first(cal.get("theta")),
      "saving": cal.get("saving_ratio"),
  }


def _first(x):
  """The first gate's value of a per-gate list (None for an ungated run's empty list)."""
  if isinstance(x, (list, tuple)):
    return x[0] if x else None
  return x


def collect(workdir: str, folds=SPEAKERS, variants=tuple(VARIANTS)) -> dict:
  """`{"folds": {speaker: {variant: row}}, "summary": {variant: {metric: {mean, std, n}}}}`."""
  table = {}
  for test in folds:
    for variant in variants:
      path = os.path.join(workdir, test, variant)
      if has_report(path):
        table.setdefault(test, {})[variant] = fold_row(read_report(path))
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
  cols = ("accuracy", "ungated_accuracy", "keyword_recall", "stop_rate", "e2e_keyword_recall",
          "validation_recall", "theta", "saving")
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


def stream_fold(run_dir: str, stream_wav: str, background_wav: str, min_windows: int = 1,
                min_score: float = 0.0) -> dict:
  """Streams one fold's recordings through its run; returns (and writes) `stream.json`."""
  from gcnet.runtime.keywords import predict  # pylint: disable=g-import-not-at-top  (JAX late)
  out = {}
  for name, wav in (("speaker", stream_wav), ("background", background_wav)):
    if not wav:
      continue
    summary = predict.predict(workdir=run_dir, inputs=wav, output=os.devnull, stream=True,
                              truth=os.path.splitext(wav)[0] + ".json", min_windows=min_windows,
                              min_score=min_score)
    out[name] = summary["streams"][0]
    out["theta"] = summary["theta"]
    out["rule"] = {"min_windows": min_windows, "min_score": min_score}
  with open(os.path.join(run_dir, "stream.json"), "w") as f:
    json.dump(out, f, indent=2)
  return out


def stream_rows(workdir: str, folds=SPEAKERS) -> dict:
  """`{speaker: stream.json}` of the folds whose GC run has one."""
  rows = {}
  for test in folds:
    path = os.path.join(workdir, test, "gc", "stream.json")
    if os.path.exists(path):
      with open(path) as f:
        rows[test] = json.load(f)
  return rows


def streams_markdown(rows: dict) -> str:
  """The always-on table: speaker stream and background recording per fold, then totals."""
  lines = ["| test speaker | keywords detected | recall | mean latency (s) | false alarms "
           "(speaker stream) | background: false alarms / hour | background: windows stopped | "
           "background: compute saving |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
  hits = kws = fa = 0
  fa_hours = []
  for test, r in rows.items():
    sp, bg = r.get("speaker", {}), r.get("background", {})
    lat = (sp.get("latency_s") or {}).get("mean")
    hits, kws, fa = hits + sp.get("hits", 0), kws + sp.get("keywords", 0), fa + sp.get(
        "false_alarms", 0)
    if bg:
      fa_hours.append(bg.get("false_alarms_per_hour"))
    lines.append(
        f"| {test} | {sp.get('hits', '')} of {sp.get('keywords', '')} | "
        f"{sp.get('recall', 0):.3f} | {'' if lat is None else f'{lat:.2f}'} | "
        f"{sp.get('false_alarms', '')} | "
        + (f"{bg['false_alarms_per_hour']:.1f} | {bg['stopped_fraction']:.3f} | "
           f"{bg['compute_saving']:.2f}x |" if bg else " | | |"))
  if rows:
    mean_fa = statistics.fmean(fa_hours) if fa_hours else float("nan")
    lines.append(f"| **all folds** | {hits} of {kws} | {hits / max(kws, 1):.3f} | | {fa} | "
                 f"{mean_fa:.1f} (mean) | | |")
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
  p.add_argument("--streams_dir", default="", help="make_stream recordings <speaker>.wav to "
                 "stream through each fold's GC run ('' : no streams)")
  p.add_argument("--background", default="", help="a make_background recording to stream too")
  p.add_argument("--min_windows", type=int, default=1, help="stream detection rule (predict)")
  p.add_argument("--min_score", type=float, default=0.0, help="stream detection rule (predict)")
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
  if args.streams_dir and not rc:
    for test in folds:
      run_dir = os.path.join(args.workdir, test, "gc")
      if has_report(run_dir):
        print(f"[loso] {test}: streaming", flush=True)
        stream_fold(run_dir, os.path.join(args.streams_dir, f"{test}.wav"), args.background,
                    args.min_windows, args.min_score)
  result = collect(args.workdir, SPEAKERS, variants)
  result["streams"] = stream_rows(args.workdir)
  out = args.out or os.path.join(args.workdir, "loso")
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  with open(out + ".json", "w") as f:
    json.dump(result, f, indent=2)
  text = to_markdown(result) + ("\n" + streams_markdown(result["streams"])
                                if result["streams"] else "")
  with open(out + ".md", "w") as f:
    f.write(text)
  print(text)
  return rc


if __name__ == "__main__":
  sys.exit(main())
