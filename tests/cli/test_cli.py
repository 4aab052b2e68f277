"""Every command-line tool: importable together (flags are defined only when a tool runs), its
--help lists its flags, and a run of the wrong kind is a one-line error naming both kinds."""

import importlib
import json
import os
import pkgutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile

import gcnet.cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = {  # tool -> a flag its --help must list
    "train": "--workdir", "predict": "--inputs", "codec": "--n_q", "export": "--batch_size",
    "sweep_theta": "--target_recall", "codec_report": "--summary", "make_stream": "--recordings",
    "make_background": "--minutes", "calibrate_switch": "--pesq_tolerance"}


def _run(args, cwd=ROOT):
  env = dict(os.environ, PYTHONPATH=ROOT, JAX_PLATFORMS="cpu", XLA_FLAGS="")
  return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=300)


def test_every_tool_module_is_known_to_this_test():
  found = {m.name for m in pkgutil.iter_modules(gcnet.cli.__path__)} - {"common"}
  assert found == set(TOOLS)


def test_all_tools_import_in_one_process_without_defining_flags():
  from absl import flags  # pylint: disable=g-import-not-at-top
  from absl import app, logging  # pylint: disable=g-import-not-at-top,unused-import
  import grain  # pylint: disable=g-import-not-at-top,unused-import  (libraries' own flags)
  import tensorflow_datasets  # pylint: disable=g-import-not-at-top,unused-import
  before = set(flags.FLAGS)
  for name in TOOLS:
    importlib.import_module(f"gcnet.cli.{name}")
  assert set(flags.FLAGS) == before   # nothing defined at import: no DuplicateFlagError possible


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_help_lists_the_flags(tool):
  proc = _run(["-m", f"gcnet.cli.{tool}", "--help"])
  assert "Traceback" not in proc.stderr, proc.stderr
  assert TOOLS[tool] in proc.stdout + proc.stderr


def _config_only_run(path, experiment: str, arg: str = "runlocal") -> str:
  """A workdir holding only the config.json of `experiments/<experiment>.py:<arg>`: enough for
  a tool to see the run's kind, which it checks before reading any checkpoint."""
  config = importlib.import_module(f"experiments.{experiment}").get_config(arg)
  os.makedirs(path, exist_ok=True)
  with open(os.path.join(path, "config.json"), "w") as f:
    f.write(config.to_json_best_effort())
  return str(path)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  root = tmp_path_factory.mktemp("kinds")
  return {"image": _config_only_run(root / "image", "fashion_mnist_gc"),
          "keyword": _config_only_run(root / "keyword", "fsdd_kws_gc"),
          "codec": _config_only_run(root / "codec", "codec_dsl", "dsl_budget0.3,runlocal")}


@pytest.mark.parametrize("tool, run, kind, wanted", [
    ("codec", "image", "'classification' on images", "'codec'"),
    ("predict", "image", "'classification' on images", "'classification' on audio"),
    ("predict", "codec", "'codec' on audio", "'classification' on audio"),
    ("codec_report", "keyword", "'classification' on audio", "'codec'"),
    ("sweep_theta", "codec", "'codec' on audio", "'classification'"),
    ("export", "image", None, None)])
def test_a_run_of_the_wrong_kind_names_both_kinds(runs, tmp_path, tool, run, kind, wanted):
  args = {"codec": ["--input=in.wav", f"--output={tmp_path / 'o.wav'}"],
          "predict": [f"--inputs={ROOT}", f"--output={tmp_path / 'o.jsonl'}"],
          "export": [f"--output={tmp_path / 'x'}"]}.get(tool, [])
  # A relative --workdir, as a user types it in the directory above the run.
  parent, name = os.path.split(runs[run])
  if tool == "codec":  # a readable input, so that the run's kind is what fails
    soundfile.write(os.path.join(parent, "in.wav"), np.zeros(800, np.float32), 8000)
  proc = _run(["-m", f"gcnet.cli.{tool}", f"--workdir={name}", *args], cwd=parent)
  assert proc.returncode == 1, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
  last = proc.stderr.strip().splitlines()[-1]
  if wanted is None:   # export takes every kind: with no checkpoint it says so, by absolute path
    assert "No checkpoint" in last and os.path.join(parent, name) in last, last
  else:
    assert f"is a run of kind {kind} (" in last and f"needs a run of kind {wanted}:" in last, last
