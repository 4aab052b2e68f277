"""The run directory has one owner: `gcnet.train.run_dir` names its files, nothing else does.

The names are looked for in the code's string literals (docstrings and comments may mention them),
read with `ast` from every module of gcnet/, launch/, benchmarks/ and scripts/.
"""

import ast
import json
import pathlib
import re

import ml_collections as mlc
import pytest

from gcnet.train import run_dir

ROOT = pathlib.Path(__file__).resolve().parents[2]
OWNER = ROOT / "gcnet" / "train" / "run_dir.py"
MODULES = sorted(p for d in ("gcnet", "launch", "benchmarks", "scripts")
                 for p in (ROOT / d).rglob("*.py"))
FILE_NAMES = (run_dir.CONFIG_FILE, run_dir.REPORT_FILE, run_dir.METRICS_FILE)
DIR_NAMES = (run_dir.CHECKPOINT_DIR, run_dir.TENSORBOARD_DIR, run_dir.DATA_ITER_ITEM)
# A file name anywhere in a literal ("x/report.json", "report.json"), a directory name as a whole
# literal or a path component ("checkpoints", "/checkpoints/").
NAME = re.compile("|".join([rf"(?<![\w.-]){re.escape(n)}(?![\w.-])" for n in FILE_NAMES] +
                           [rf"(?:^|/){re.escape(n)}(?:/|$)" for n in DIR_NAMES]))


def _docstring_nodes(tree: ast.AST) -> set[int]:
  out = set()
  for node in ast.walk(tree):
    if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
      body = node.body
      if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        out.add(id(body[0].value))
  return out


def run_dir_names_in(source: str) -> list[tuple[int, str]]:
  """`(line, literal)` of the string literals of `source` (not docstrings) that spell a name."""
  tree = ast.parse(source)
  docs = _docstring_nodes(tree)
  return sorted((node.lineno, node.value) for node in ast.walk(tree)
          if isinstance(node, ast.Constant) and isinstance(node.value, str)
          and id(node) not in docs and NAME.search(node.value))


def test_the_checker_finds_names_in_literals_and_f_strings_but_not_docstrings():
  source = ('"""Writes report.json."""\n'
            'def f(w):\n  """Reads w/metrics.jsonl."""\n'
            '  a = os.path.join(w, "config.json")\n  b = f"{w}/checkpoints/{3}"\n'
            '  c = "tb"\n  d = "my_report.json"\n  e = "checkpoints_old"\n')
  assert [line for line, _ in run_dir_names_in(source)] == [4, 5, 6]


def test_run_dir_file_names_appear_in_one_module_only():
  assert len(MODULES) > 100, len(MODULES)
  hits = {str(p.relative_to(ROOT)): run_dir_names_in(p.read_text()) for p in MODULES
          if p != OWNER}
  hits = {k: v for k, v in hits.items() if v}
  assert not hits, f"Run-directory names spelt outside gcnet/train/run_dir.py: {hits}"
  assert run_dir_names_in(OWNER.read_text()), "the checker must see the owner's names"


def test_config_and_report_round_trip_and_a_restart_of_another_run_is_refused(tmp_path):
  config = mlc.ConfigDict({"experiment": "a", "model": {"name": "m"}, "data": {"name": "d"}})
  run_dir.check_or_write_config(config, tmp_path)
  assert run_dir.read_config(tmp_path).to_dict() == config.to_dict()
  run_dir.check_or_write_config(config, tmp_path)  # The same run restarting: fine.
  other = mlc.ConfigDict({**config.to_dict(), "experiment": "b"})
  with pytest.raises(ValueError, match="different 'experiment'"):
    run_dir.check_or_write_config(other, tmp_path)
  assert not run_dir.has_report(tmp_path)
  run_dir.write_report(tmp_path, {"step": 3})
  assert run_dir.has_report(tmp_path) and run_dir.read_report(tmp_path) == {"step": 3}
  assert run_dir.read_report(run_dir.report_path(tmp_path)) == {"step": 3}
  with pytest.raises(FileNotFoundError, match="not a gcnet run directory"):
    run_dir.read_config(tmp_path / "nothing")


def test_metrics_rows_read_in_order(tmp_path):
  rows = [{"step": 1, "train/loss": 2.0}, {"step": 2, "eval/accuracy": 0.5}]
  run_dir.metrics_path(tmp_path).write_text("".join(json.dumps(r) + "\n" for r in rows))
  assert run_dir.read_metrics(tmp_path) == rows


def test_relative_paths_resolve(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  assert run_dir.resolve("runs/x") == tmp_path / "runs" / "x"
  assert str(run_dir.resolve("gs://bucket/run")) == "gs://bucket/run"
