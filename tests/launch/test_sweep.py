"""launch.sweep: runs unfinished runs only, in parallel, and aggregates their reports."""

import csv
import json
import os
import shlex
import sys
import textwrap

from launch import common
from launch import plot
from launch import sweep

FMNIST = str(common.REPO_ROOT / "tests" / "launch" / "sweep_experiment.py") + ":runlocal"

# Stands in for gcnet.cli.train: logs its call, writes a report computed from the overrides.
_FAKE_MAIN = textwrap.dedent("""
    import json, os, sys
    args = dict(a[2:].split("=", 1) for a in sys.argv[1:])
    with open(os.environ["FAKE_CALLS"], "a") as f:
      f.write(os.path.basename(args["workdir"]) + "\\n")
    alpha = float(args["config.loss.terms.gate_bce"])
    beta = float(args["config.loss.terms.compression_l1"])
    if alpha == 3.0 and beta == 2.0 and os.environ.get("FAKE_FAIL"):
      sys.exit(5)
    os.makedirs(args["workdir"], exist_ok=True)
    report = {"accuracy": 0.5 + alpha / 10 - beta / 100,
              "steps": int(args["config.train.num_steps"]),
              "calibrated": {"stop_rate": beta / 4, "theta": 0.5}, "per_class": [1, 2]}
    with open(os.path.join(args["workdir"], "report.json"), "w") as f:
      json.dump(report, f)
""")


def _setup(tmp_path, monkeypatch):
  fake = tmp_path / "fake_main.py"
  fake.write_text(_FAKE_MAIN)
  calls = tmp_path / "calls.txt"
  monkeypatch.setenv("FAKE_CALLS", str(calls))
  return [sys.executable, str(fake)], calls


def _calls(path):
  return sorted(path.read_text().split()) if path.exists() else []


def test_runs_skips_finished_and_aggregates(tmp_path, monkeypatch):
  main, calls = _setup(tmp_path, monkeypatch)
  sweep_dir = str(tmp_path / "sweep")
  extra = ["--config.train.num_steps=7"]
  monkeypatch.setenv("FAKE_FAIL", "1")
  status = sweep.run_sweep(FMNIST, sweep_dir, extra=extra, parallel=3, main=main)
  assert status == 1   # one run failed
  names = [r.name for r in sweep.expand(sweep.load_sweep(FMNIST), sweep_dir)]
  assert _calls(calls) == sorted(names)
  failed = "gate_bce=3,compression_l1=2"
  assert os.path.exists(os.path.join(sweep_dir, "logs", failed + ".log"))

  # Restart: only the failed run and a run whose report was removed start again.
  calls.unlink()
  monkeypatch.delenv("FAKE_FAIL")
  os.remove(os.path.join(sweep_dir, "gate_bce=0.3,compression_l1=0.5", "report.json"))
  assert sweep.run_sweep(FMNIST, sweep_dir, extra=extra, parallel=2, main=main) == 0
  assert _calls(calls) == sorted([failed, "gate_bce=0.3,compression_l1=0.5"])

  # A third call has nothing left to run.
  calls.unlink()
  assert sweep.run_sweep(FMNIST, sweep_dir, extra=extra, main=main,
                         metric="accuracy,calibrated") == 0
  assert _calls(calls) == []

  with open(os.path.join(sweep_dir, "results.csv")) as f:
    rows = list(csv.reader(f))
  assert rows[0] == ["name", "config.loss.terms.gate_bce", "config.loss.terms.compression_l1",
                     "accuracy", "steps", "calibrated.stop_rate", "calibrated.theta",
                     "per_class"]
  assert [r[0] for r in rows[1:]] == names   # sweep order
  for row in rows[1:]:
    alpha, beta = float(row[1]), float(row[2])
    assert row[0] == f"gate_bce={alpha:g},compression_l1={beta:g}"
    assert float(row[3]) == 0.5 + alpha / 10 - beta / 100
    assert row[4] == "7" and float(row[5]) == beta / 4 and row[7] == "[1, 2]"

  md = open(os.path.join(sweep_dir, "results.md")).read().splitlines()
  assert "9 of 9 runs finished." in md
  table = [line for line in md if line.startswith("|")]
  assert table[0].split(" | ")[:4] == ["| name", "config.loss.terms.gate_bce",
                                       "config.loss.terms.compression_l1", "accuracy"]
  assert len(table) == 2 + 9
  assert "| gate_bce=1,compression_l1=2 | 1 | 2 | 0.58 | 7 | 0.5 | 0.5 |" in table
  assert "List-valued keys, in results.csv only: `per_class`" in md
  # "calibrated" is nested: one plot per numeric leaf.
  for metric in ("accuracy", "calibrated.stop_rate", "calibrated.theta"):
    png = os.path.join(sweep_dir, f"plot_{metric}.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
  recorded = json.load(open(os.path.join(sweep_dir, "sweep.json")))
  assert [r["name"] for r in recorded["runs"]] == names and recorded["extra"] == extra


def test_print_launcher_prints_unfinished_commands(tmp_path, monkeypatch, capsys):
  main, calls = _setup(tmp_path, monkeypatch)
  sweep_dir = tmp_path / "sweep"
  done = sweep_dir / "gate_bce=0.3,compression_l1=0.1"
  done.mkdir(parents=True)
  (done / "report.json").write_text(json.dumps({"accuracy": 0.9}))
  assert sweep.main([f"--config={FMNIST}", f"--sweep_dir={sweep_dir}", "--launcher=print",
                     "--main=python -m launch.multiprocess --num_processes=2", "--",
                     "--config.train.num_steps=50"]) == 0
  assert _calls(calls) == []
  lines = [l for l in capsys.readouterr().out.splitlines() if not l.startswith("[sweep]")]
  assert len(lines) == 8
  assert shlex.split(lines[0]) == [
      "python", "-m", "launch.multiprocess", "--num_processes=2", f"--config={FMNIST}",
      f"--workdir={sweep_dir}/gate_bce=0.3,compression_l1=0.5",
      "--config.loss.terms.gate_bce=0.3", "--config.loss.terms.compression_l1=0.5",
      "--config.train.num_steps=50"]
  # The one finished run is aggregated already.
  assert len(open(sweep_dir / "results.csv").read().splitlines()) == 2


def test_plot_kinds(tmp_path):
  rows = [{"config.a": a, "config.b": b, "acc": a * b} for a in (0.1, 1.0, 10.0) for b in (1, 2)]
  assert plot.choose_kind(rows, ["config.a", "config.b"]) == "heatmap"
  assert plot.choose_kind(rows[:5], ["config.a", "config.b"]) == "lines"
  rand = [{"config.a": i / 20, "acc": i} for i in range(20)]
  assert plot.choose_kind(rand, ["config.a"]) == "scatter"
  for kind in ("lines", "heatmap", "scatter"):
    path = str(tmp_path / f"{kind}.png")
    assert plot.plot_metric(rows, ["config.a", "config.b"], "acc", path, kind=kind)
    assert os.path.getsize(path) > 1000
  assert not plot.plot_metric(rows, ["config.a"], "missing", str(tmp_path / "x.png"))
