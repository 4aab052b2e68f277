"""Always-on evaluation of LOSO keyword runs: operating point chosen on validation, scored on test.

  python -m launch.kws_streams --workdir=runs/l21/full --streams_dir=runs/streams21 \
      --out=docs/results/fsdd_kws_streams

For each fold (test speaker `s`, validation speaker `v` as in `launch.loso`) whose GC run has
finished, the run streams (`gcnet.runtime.keywords.event_rule.stream_windows`, a 1 s window every
0.25 s):

- validation: `STREAMS/val/<v>.wav` (the validation speaker's digits between training sounds) and
  `STREAMS/val_background.wav` (a `make_background` recording of *training* negative sources);
- test: `STREAMS/test/<s>.wav` (the test speaker's digits) and `STREAMS/eval_background.wav` (the
  >= 1.5 h keyword-free recording of evaluation sources only).

The level stage and event rule are chosen on the validation streams (`event_rule.choose`, at most
`--max_fa_per_hour` there), then the test streams are scored at that point: keywords found, false
alarms per hour on the background with the per-source table, windows stopped, compute saving. The
recall-versus-false-alarms curve over every operating point is plotted per fold and for the mean
over folds (`OUT.png`). Per-window arrays are cached in each run (`streams_cache.npz`).
"""

import argparse
import json
import os
import statistics
import sys

import numpy as np

from gcnet.train.run_dir import has_report
from launch import loso

def stream_paths(streams_dir: str, test: str, background: str = "") -> dict:
  _, val = loso.fold_speakers(test)
  return {"val_stream": os.path.join(streams_dir, "val", f"{val}.wav"),
          "val_background": os.path.join(streams_dir, "val_background.wav"),
          "test_stream": os.path.join(streams_dir, "test", f"{test}.wav"),
          "background": background or os.path.join(streams_dir, "eval_background.wav")}


def fold_streams(run_dir: str, paths: dict) -> tuple[object, dict]:
  """The fold's spotter and `{name: (arrays, truth)}` (arrays cached in the run)."""
  from gcnet.audio import audio_io  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.keywords import event_rule  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.keywords.spotter import load_spotter  # pylint: disable=g-import-not-at-top
  spotter = load_spotter(run_dir)
  cache_path = os.path.join(run_dir, "streams_cache.npz")
  cache = dict(np.load(cache_path, allow_pickle=True)) if os.path.exists(cache_path) else {}
  out = {}
  for name, path in paths.items():
    with open(os.path.splitext(path)[0] + ".json") as f:
      truth = json.load(f)
    key = f"{name}:{os.path.abspath(path)}"
    if key not in cache:
      wave, _ = audio_io.read_audio(path, spotter.sample_rate)
      cache[key] = np.array(event_rule.stream_windows(spotter, wave), dtype=object)
      np.savez(cache_path, **cache)
    out[name] = (cache[key].item(), truth)
  return spotter, out


def evaluate_fold(run_dir: str, paths: dict, max_fa_per_hour: float) -> dict:
  """Chosen operating point, its test scores, and the curve of one fold."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.keywords import event_rule  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.keywords import stream_truth  # pylint: disable=g-import-not-at-top
  spotter, s = fold_streams(run_dir, paths)
  point, val = event_rule.choose(spotter, [s["val_stream"], s["val_background"]],
                                 max_fa_per_hour)
  test = event_rule.score(spotter, [s["test_stream"]], point)
  bg_arrays, bg_truth = s["background"]
  bg = event_rule.apply(spotter, bg_arrays, point)
  bg_scored = stream_truth.score_detections(bg["detections"], bg_truth)
  rows = event_rule.curve(spotter, [s["test_stream"]], [s["background"]])
  return {
      "point": dataclasses.asdict(point),
      "validation": {k: val[k] for k in ("recall", "false_alarms", "hours",
                                         "false_alarms_per_hour")},
      "test_stream": {k: test["streams"][0].get(k) for k in (
          "keywords", "hits", "recall", "false_alarms", "latency_s", "stopped_fraction")},
      "background": {"hours": bg_arrays["duration_s"] / 3600.0,
                     "false_alarms": bg_scored["false_alarms"],
                     "false_alarms_per_hour": bg_scored["false_alarms_per_hour"],
                     "stopped_fraction": bg["stopped_fraction"],
                     "level_stopped_fraction": bg["level_stopped_fraction"],
                     "compute_saving": bg["compute_saving"],
                     "per_source": bg_scored.get("per_source", {})},
      "curve": rows,
  }


def mean_curve(per_fold: dict) -> list[dict]:
  """Mean recall and false alarms per hour over folds at each operating point."""
  points = {}
  for result in per_fold.values():
    for r in result["curve"]:
      key = json.dumps(r["point"], sort_keys=True)
      points.setdefault(key, []).append(r)
  rows = [{"point": json.loads(k), "recall": statistics.fmean(r["recall"] for r in v),
           "false_alarms_per_hour": statistics.fmean(r["false_alarms_per_hour"] for r in v)}
          for k, v in points.items() if len(v) == len(per_fold)]
  return sorted(rows, key=lambda r: (r["false_alarms_per_hour"], -r["recall"]))


def plot(per_fold: dict, out_png: str) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.keywords import event_rule  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(7, 4.5))
  for test, result in per_fold.items():
    f = event_rule.frontier(result["curve"])
    ax.step([r["false_alarms_per_hour"] for r in f], [r["recall"] for r in f], where="post",
            alpha=0.6, label=test)
    ax.plot([result["background"]["false_alarms_per_hour"]], [result["test_stream"]["recall"]],
            "o", color=ax.lines[-1].get_color())
  m = event_rule.frontier(mean_curve(per_fold))
  ax.step([r["false_alarms_per_hour"] for r in m], [r["recall"] for r in m], where="post",
          color="k", lw=2, label="mean over folds")
  ax.axhline(0.95, ls=":", color="grey")
  ax.axvline(2.0, ls=":", color="grey")
  ax.set_xscale("symlog", linthresh=1.0)
  ax.set_xlim(left=0.0)
  ax.set_xlabel("false alarms per hour (evaluation background)")
  ax.set_ylabel("keywords found (test speaker stream)")
  ax.set_title("Recall vs false alarms per operating point (dots: chosen on validation)")
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(out_png, dpi=110)


def to_markdown(per_fold: dict) -> str:
  lines = ["| test speaker | chosen on validation: level stage, min windows, min score | "
           "validation recall / FA per h | keywords found | recall | mean latency (s) | "
           "FA on speaker stream | background FA / h | background windows stopped (level stage) "
           "| compute saving |", "|" + " --- |" * 10]
  recalls, fas, stops = [], [], []
  for test, r in per_fold.items():
    p, t, b, v = r["point"], r["test_stream"], r["background"], r["validation"]
    lat = (t.get("latency_s") or {}).get("mean")
    level = "none" if p["min_level_db"] is None else f"{p['min_level_db']:g} dBFS"
    lines.append(
        f"| {test} | {level}, {p['min_windows']}, {p['min_score']:g} | "
        f"{v['recall']:.3f} / {v['false_alarms_per_hour']:.1f} | {t['hits']} of {t['keywords']} | "
        f"{t['recall']:.3f} | {'' if lat is None else f'{lat:.2f}'} | {t['false_alarms']} | "
        f"{b['false_alarms_per_hour']:.2f} ({b['false_alarms']} in {b['hours']:.2f} h) | "
        f"{b['stopped_fraction']:.3f} ({b['level_stopped_fraction']:.3f}) | "
        f"{b['compute_saving']:.2f}x |")
    recalls.append(t["recall"])
    fas.append(b["false_alarms_per_hour"])
    stops.append(b["stopped_fraction"])
  if len(recalls) > 1:
    sd = lambda x: statistics.stdev(x)
    lines.append(f"| **mean ± std ({len(recalls)} folds)** | | | | "
                 f"{statistics.fmean(recalls):.3f} ± {sd(recalls):.3f} | | | "
                 f"{statistics.fmean(fas):.2f} ± {sd(fas):.2f} | "
                 f"{statistics.fmean(stops):.3f} ± {sd(stops):.3f} | |")
  sources = sorted({s for r in per_fold.values() for s in r["background"]["per_source"]})
  lines += ["", "False alarms on the evaluation background per source (count, and per hour of "
            "that source), at each fold's chosen point:", "",
            "| source | hours | " + " | ".join(per_fold) + " |",
            "| --- | --- |" + " --- |" * len(per_fold)]
  for src in sources:
    rows = [r["background"]["per_source"].get(src, {}) for r in per_fold.values()]
    hours = next((x.get("hours") for x in rows if x.get("hours") is not None), None)
    cells = [f"{x.get('false_alarms', 0)} ({x.get('false_alarms_per_hour') or 0:.1f}/h)"
             for x in rows]
    lines.append(f"| {src} | {'' if hours is None else f'{hours:.3f}'} | "
                 + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"


def main(argv=None) -> int:
  p = argparse.ArgumentParser(prog="python -m launch.kws_streams", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--workdir", required=True, help="a launch.loso workdir")
  p.add_argument("--folds", default=",".join(loso.SPEAKERS))
  p.add_argument("--streams_dir", required=True)
  p.add_argument("--background", default="", help="('' : STREAMS/eval_background.wav)")
  p.add_argument("--max_fa_per_hour", type=float, default=2.0)
  p.add_argument("--out", required=True, help="path without extension (.md, .json, .png)")
  args = p.parse_args(argv)
  per_fold = {}
  for test in [f for f in args.folds.split(",") if f]:
    run_dir = os.path.join(args.workdir, test, "gc")
    if not has_report(run_dir):
      continue
    print(f"[kws_streams] {test}", flush=True)
    per_fold[test] = evaluate_fold(run_dir, stream_paths(args.streams_dir, test, args.background),
                                   args.max_fa_per_hour)
  if not per_fold:
    p.error(f"no finished GC run under {args.workdir}")
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out + ".json", "w") as f:
    json.dump({"folds": per_fold, "mean_curve": mean_curve(per_fold)}, f, indent=1)
  text = to_markdown(per_fold)
  with open(args.out + ".md", "w") as f:
    f.write(text)
  plot(per_fold, args.out + ".png")
  print(text)
  return 0


if __name__ == "__main__":
  sys.exit(main())
