"""Expands an experiment's `get_sweep(hyper)` into runs, runs the unfinished ones, aggregates.

  python -m launch.sweep --config=experiments/fashion_mnist_gc.py:runlocal \
      --sweep_dir=runs/fmnist_gc_sweep [--parallel=2] [--launcher=local|print] \
      [--metric=accuracy] [--devices=N] [--main="python -m launch.multiprocess ..."] \
      [-- --config.train.num_steps=2000]

Every run gets its own workdir `SWEEP_DIR/<name>`, named after its swept values
(`gate_bce=0.3,compression_l1=0.1`). A run is finished when its workdir holds `report.json`;
a restarted sweep starts only the unfinished runs (they resume from their checkpoints). At the end
every report is gathered into SWEEP_DIR/results.csv, results.md and plot_<metric>.png.

`--main` is the command each run starts with, followed by `--config`, `--workdir` and the
run's `--config.key=value` overrides: by default `python -m gcnet.cli.train`, but any launcher
(`python -m launch.multiprocess --num_processes=2`, `python -m launch.slurm --nodes=2 ...`)
or a test double fits.
"""

import argparse
import dataclasses
import hashlib
import importlib.util
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from typing import Any, Optional, Sequence

from gcnet.train import run_dir
from launch import common
from launch import hyper
from launch import results

@dataclasses.dataclass(frozen=True)
class Run:
  name: str
  params: dict     # config key -> value
  workdir: str

  def flags(self) -> list:
    return [f"--{key}={flag_value(value)}" for key, value in self.params.items()]

  def finished(self) -> bool:
    return run_dir.has_report(self.workdir)


def flag_value(value: Any) -> str:
  """A value as ml_collections' config_flags parses it back."""
  if isinstance(value, (tuple, list)):
    return repr(tuple(value))
  if isinstance(value, float):
    return repr(value)
  return str(value)


def _name_value(value: Any) -> str:
  if isinstance(value, (tuple, list)):
    return "_".join(_name_value(v) for v in value)
  if isinstance(value, float):
    return f"{value:.4g}"
  return str(value)


def short_names(keys: Sequence[str]) -> dict:
  """Each key's shortest dotted suffix that no other key shares (`...terms.gate_bce`: gate_bce)."""
  names = {}
  for key in keys:
    parts = key.split(".")[1:]   # drop "config"
    for n in range(1, len(parts) + 1):
      suffix = ".".join(parts[-n:])
      if not any(o != key and o.split(".")[1:][-n:] == parts[-n:] for o in keys):
        break
    names[key] = suffix
  return names


def run_names(sweep: Sequence[dict]) -> list:
  """Readable, unique, file-system-safe names, one per run."""
  keys = list(dict.fromkeys(k for run in sweep for k in run))
  short = short_names(keys)
  names, seen = [], {}
  for run in sweep:
    name = ",".join(f"{short[k]}={_name_value(v)}" for k, v in run.items()) or "base"
    name = re.sub(r"[^A-Za-z0-9._+\-=,]", "_", name)
    if len(name) > 150:
      name = name[:140] + "-" + hashlib.sha1(name.encode()).hexdigest()[:8]
    seen[name] = seen.get(name, 0) + 1
    names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
  return names


def load_sweep(config: str, fn: str = "get_sweep") -> list:
  """Calls `fn(hyper)` of the experiment file named by `config` (`path.py[:arg]`)."""
  path = os.path.abspath(common.config_path(config))
  for root in (str(common.REPO_ROOT), os.getcwd()):
    if root not in sys.path:
      sys.path.insert(0, root)
  spec = importlib.util.spec_from_file_location("_gcnet_sweep_experiment", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  if not hasattr(module, fn):
    raise ValueError(f"{path} defines no {fn}(hyper).")
  sweep = list(getattr(module, fn)(hyper))
  if not sweep:
    raise ValueError(f"{path}: {fn}(hyper) returned no runs.")
  return sweep


def expand(sweep: Sequence[dict], sweep_dir: str) -> list:
  return [Run(name, dict(params), os.path.join(sweep_dir, name))
          for name, params in zip(run_names(sweep), sweep)]


def command(run: Run, config: str, main: Sequence[str], extra: Sequence[str] = ()) -> list:
  return [*main, f"--config={config}", f"--workdir={run.workdir}", *run.flags(), *extra]


def _log(msg: str):
  print(f"[sweep] {msg}", flush=True)


def run_locally(jobs: Sequence[tuple], parallel: int, log_dir: str, env: dict) -> dict:
  """Runs `(run, argv)` jobs as subprocesses, at most `parallel` at once; returns name -> status.

  Each job's output goes to `log_dir/<name>.log`. A job that exits 0 without writing report.json
  counts as failed (status -1).
  """
  os.makedirs(log_dir, exist_ok=True)
  pending, running, status = list(jobs), {}, {}
  total = len(jobs)
  try:
    while pending or running:
      while pending and len(running) < max(1, parallel):
        run, argv = pending.pop(0)
        log_path = os.path.join(log_dir, run.name + ".log")
        with open(log_path, "ab") as log:
          proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
        running[run.name] = (run, proc, time.monotonic(), log_path)
        _log(f"start {total - len(pending)}/{total} {run.name}")
      for name, (run, proc, start, log_path) in list(running.items()):
        if proc.poll() is None:
          continue
        del running[name]
        code = proc.returncode
        if code == 0 and not run.finished():
          code = -1
        status[name] = code
        took = time.monotonic() - start
        if code == 0:
          _log(f"done {name} ({took:.0f}s)")
        else:
          _log(f"FAILED {name} (status {code}, {took:.0f}s); log: {log_path}")
      time.sleep(0.1)
  finally:
    for _, proc, _, _ in running.values():
      if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
  return status


def run_sweep(config: str, sweep_dir: str, *, extra: Sequence[str] = (), parallel: int = 1,
              launcher: str = "local", main: Optional[Sequence[str]] = None,
              devices: Optional[int] = None, metric: Any = "accuracy", plot: str = "auto",
              sweep_fn: str = "get_sweep") -> int:
  """Expands, runs (or prints) the unfinished runs, aggregates; returns an exit status."""
  main = list(main) if main else [sys.executable, "-m", common.DEFAULT_MAIN_MODULE]
  runs = expand(load_sweep(config, sweep_fn), sweep_dir)
  os.makedirs(sweep_dir, exist_ok=True)
  todo = [r for r in runs if not r.finished()]
  jobs = [(r, command(r, config, main, extra)) for r in todo]
  with open(os.path.join(sweep_dir, "sweep.json"), "w") as f:
    json.dump({"config": config, "extra": list(extra),
               "runs": [{"name": r.name, "params": r.params, "workdir": r.workdir}
                        for r in runs]}, f, indent=1)
  _log(f"{len(runs)} runs, {len(runs) - len(todo)} finished, {len(todo)} to run.")
  failed = 0
  if launcher == "print":
    for _, argv in jobs:
      print(common.shell_join(argv))
  elif launcher == "local":
    env = common.device_env(devices)
    status = run_locally(jobs, parallel, os.path.join(sweep_dir, "logs"), env)
    failed = sum(code != 0 for code in status.values())
  else:
    raise ValueError(f"Unknown launcher {launcher!r}; use 'local' or 'print'.")
  results.aggregate(runs, sweep_dir, metric=metric, plot=plot)
  if failed:
    _log(f"{failed} of {len(jobs)} runs failed.")
  return 1 if failed else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m launch.sweep", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--config", required=True, help="experiment file[:arg] with get_sweep")
  parser.add_argument("--sweep_dir", required=True, help="one workdir per run goes in here")
  parser.add_argument("--parallel", type=int, default=1, help="runs at once (local launcher)")
  parser.add_argument("--launcher", choices=("local", "print"), default="local",
                      help="local: run here; print: print the commands of unfinished runs")
  parser.add_argument("--main", default=None,
                      help="command each run starts with (default: python -m gcnet.cli.train)")
  parser.add_argument("--devices", type=int, default=None,
                      help="simulated CPU devices per run (default: the real devices)")
  parser.add_argument("--metric", default="accuracy",
                      help="report key(s) to plot, comma-separated; a nested key plots its leaves")
  parser.add_argument("--plot", choices=("auto", "lines", "heatmap", "scatter", "none"),
                      default="auto")
  parser.add_argument("--sweep_fn", default="get_sweep", help="function of the experiment file")
  args, extra = common.parse_args(parser, argv)
  return run_sweep(args.config, args.sweep_dir, extra=extra, parallel=args.parallel,
                   launcher=args.launcher, main=shlex.split(args.main) if args.main else None,
                   devices=args.devices, metric=args.metric, plot=args.plot,
                   sweep_fn=args.sweep_fn)


if __name__ == "__main__":
  sys.exit(main())
