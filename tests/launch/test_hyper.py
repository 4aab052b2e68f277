"""launch.hyper: sweep combinators and seeded random search; run names and flags."""

import sys

from absl import flags
from ml_collections import config_flags
import pytest

from launch import common
from launch import hyper
from launch import sweep

FMNIST = str(common.REPO_ROOT / "experiments" / "fashion_mnist_gc.py")


def test_sweep_product_zip_chain():
  a = hyper.sweep("config.a", [1, 2])
  b = hyper.sweep("config.b", [3, 4, 5])
  assert hyper.product([a, b]) == [
      {"config.a": 1, "config.b": 3}, {"config.a": 1, "config.b": 4},
      {"config.a": 1, "config.b": 5}, {"config.a": 2, "config.b": 3},
      {"config.a": 2, "config.b": 4}, {"config.a": 2, "config.b": 5}]
  c = hyper.sweep("config.c", ["x", "y"])
  assert hyper.zipit([a, c]) == [{"config.a": 1, "config.c": "x"},
                                 {"config.a": 2, "config.c": "y"}]
  assert hyper.chain([a, c]) == [{"config.a": 1}, {"config.a": 2}, {"config.c": "x"},
                                 {"config.c": "y"}]
  nested = hyper.product([hyper.zipit([a, c]), hyper.fixed("config.d", 0.5)])
  assert nested == [{"config.a": 1, "config.c": "x", "config.d": 0.5},
                    {"config.a": 2, "config.c": "y", "config.d": 0.5}]


def test_errors():
  with pytest.raises(ValueError, match="same length"):
    hyper.zipit([hyper.sweep("config.a", [1, 2]), hyper.sweep("config.b", [1])])
  with pytest.raises(ValueError, match="both set"):
    hyper.product([hyper.sweep("config.a", [1]), hyper.sweep("config.a", [2])])
  with pytest.raises(ValueError, match="config paths"):
    hyper.sweep("train.lr", [1])
  with pytest.raises(ValueError, match="non-empty"):
    hyper.sweep("config.a", [])


def test_random_is_seeded_and_in_range():
  space = {"config.lr": hyper.loguniform(1e-4, 1e-2), "config.w": hyper.uniform(-1, 1),
           "config.n": hyper.randint(2, 4), "config.act": hyper.choice(["relu", "gelu"]),
           "config.size": ["tiny", "small"]}
  runs = hyper.random(space, n=50, seed=3)
  assert len(runs) == 50
  assert runs == hyper.random(space, n=50, seed=3)
  assert runs != hyper.random(space, n=50, seed=4)
  for run in runs:
    assert list(run) == list(space)
    assert 1e-4 <= run["config.lr"] < 1e-2 and type(run["config.lr"]) is float
    assert -1 <= run["config.w"] < 1
    assert run["config.n"] in (2, 3, 4) and type(run["config.n"]) is int
    assert run["config.act"] in ("relu", "gelu")
    assert run["config.size"] in ("tiny", "small")
  assert {r["config.n"] for r in runs} == {2, 3, 4}
  # Combines with the grid combinators: 2 seeds of the same 5 random points.
  grid = hyper.product([hyper.sweep("config.seed", [0, 1]),
                        hyper.random({"config.lr": hyper.loguniform(1e-4, 1e-2)}, 5)])
  assert len(grid) == 10 and grid[0]["config.lr"] == grid[5]["config.lr"]


def test_run_names_readable_and_unique():
  runs = hyper.product([hyper.sweep("config.loss.terms.gate_bce", [0.3, 1.0]),
                        hyper.sweep("config.loss.terms.compression_l1", [0.1, 2.0])])
  assert sweep.run_names(runs) == [
      "gate_bce=0.3,compression_l1=0.1", "gate_bce=0.3,compression_l1=2",
      "gate_bce=1,compression_l1=0.1", "gate_bce=1,compression_l1=2"]
  # Same last component: longer suffixes; duplicates get a counter; tuples and paths are safe.
  runs = [{"config.model.size": "tiny", "config.data.size": 3},
          {"config.model.size": "tiny", "config.data.size": 3},
          {"config.model.gc_after": (0, 1), "config.data.name": "a/b"}]
  assert sweep.run_names(runs) == ["model.size=tiny,data.size=3",
                                   "model.size=tiny,data.size=3_2", "gc_after=0_1,name=a_b"]
  rand = hyper.random({"config.lr": hyper.loguniform(1e-4, 1e-2),
                       "config.wd": hyper.loguniform(1e-5, 1e-3)}, n=40, seed=0)
  assert len(set(sweep.run_names(rand))) == 40


def test_flags_round_trip():
  run = sweep.Run("x", {"config.a": 0.1, "config.b": (0, 1), "config.c": True,
                        "config.d": "cosine", "config.e": 3}, "/w")
  assert run.flags() == ["--config.a=0.1", "--config.b=(0, 1)", "--config.c=True",
                         "--config.d=cosine", "--config.e=3"]


def test_fashion_mnist_sweep_flags_parse_back(monkeypatch):
  runs = sweep.expand(sweep.load_sweep(FMNIST + ":runlocal"), "/sweep")
  assert len(runs) == 9 and len({r.name for r in runs}) == 9
  assert {r.params["config.loss.terms.gate_bce"] for r in runs} == {1.0, 3.0, 10.0}
  run = runs[1]  # product order: the last key varies fastest
  assert run.name == "gate_bce=1,compression_l1=2" and run.workdir == "/sweep/" + run.name
  # The command line of a run, read back the way gcnet.cli.train reads it (config_flags reads sys.argv).
  argv = sweep.command(run, FMNIST + ":runlocal", ["prog"], ["--config.model.gc_after=(0, 1)"])
  assert argv[1:3] == [f"--config={FMNIST}:runlocal", f"--workdir=/sweep/{run.name}"]
  values = flags.FlagValues()
  config_flags.DEFINE_config_file("config", None, flag_values=values, lock_config=True)
  flags.DEFINE_string("workdir", None, "", flag_values=values)
  monkeypatch.setattr(sys, "argv", argv)
  values(argv)
  assert values.config.loss.terms.gate_bce == 1.0
  assert values.config.loss.terms.compression_l1 == 2.0
  assert values.config.model.gc_after == (0, 1)


@pytest.mark.parametrize("fn", ["search_round1", "search_round2", "search_round3"])
def test_fashion_mnist_search_rounds_parse_back(monkeypatch, fn):
  """Every run of the issue-12 search rounds (incl. the ramp's tuple of term names) parses back."""
  runs = sweep.expand(sweep.load_sweep(FMNIST, fn), "/sweep")
  assert len({r.name for r in runs}) == len(runs)
  for run in runs:
    argv = sweep.command(run, FMNIST, ["prog"])
    values = flags.FlagValues()
    config_flags.DEFINE_config_file("config", None, flag_values=values, lock_config=True)
    flags.DEFINE_string("workdir", None, "", flag_values=values)
    monkeypatch.setattr(sys, "argv", argv)
    values(argv)
    for key, value in run.params.items():
      got = values.config
      for part in key.split(".")[1:]:
        got = got[part]
      assert got == value, (key, got, value)
