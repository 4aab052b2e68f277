"""The deployment CLIs end to end on a tiny trained run (each in its own process)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gcnet.eval.threshold_sweep import default_thetas

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(args, cwd=ROOT):
  env = dict(os.environ, PYTHONPATH=ROOT)
  proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=600)
  assert proc.returncode == 0, f"{args}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
  return proc.stdout


@pytest.fixture(scope="module")
def report(tiny_run):
  with open(os.path.join(tiny_run, "report.json")) as f:
    return json.load(f)


def test_sweep_theta_cli(tiny_run, report, tmp_path):
  out = _run(["-m", "gcnet.cli.sweep_theta", f"--workdir={tiny_run}", f"--output={tmp_path}"])
  assert "theta chosen on validation" in out
  for name in ("threshold_sweep.csv", "threshold_sweep.md", "threshold_sweep.json",
               "threshold_sweep_recall.png", "threshold_sweep_compute.png"):
    assert (tmp_path / name).stat().st_size > 0, name
  assert (tmp_path / "threshold_sweep_recall.png").read_bytes()[:4] == b"\x89PNG"
  result = json.loads((tmp_path / "threshold_sweep.json").read_text())
  assert [r["theta"] for r in result["rows"]] == pytest.approx(default_thetas().tolist())
  calibrated = report["gating"]["calibrated"]
  # The same calibration on the same validation predictions as the training report.
  assert result["chosen"]["thetas"] == pytest.approx(calibrated["theta"])
  assert result["chosen"]["accuracy"] == pytest.approx(calibrated["accuracy"])
  assert result["chosen"]["stop_rate"] == pytest.approx(calibrated["stop_rate"])
  assert result["chosen"]["expected_flops"] == pytest.approx(calibrated["expected_flops_xla"])
  assert result["ungated"]["flops"] == pytest.approx(report["compute"]["ungated"]["flops_xla"])
  lines = (tmp_path / "threshold_sweep.csv").read_text().splitlines()
  assert len(lines) == 1 + len(default_thetas())


def test_export_cli_and_standalone_check(tiny_run, report, tmp_path):
  export_dir = tmp_path / "export"
  out = _run(["-m", "gcnet.cli.export", f"--workdir={tiny_run}", f"--output={export_dir}",
              "--num_examples=5"])
  assert "front" in out and "back" in out
  manifest = json.loads((export_dir / "manifest.json").read_text())
  assert manifest["thetas"] == pytest.approx(report["gating"]["calibrated"]["theta"])
  assert manifest["class_names"] == report["class_names"] and manifest["background_class"] == 3
  assert manifest["batch_dim"] == "b" and manifest["step"] == 10
  # A fresh interpreter, outside the repository, with only the export directory.
  check = _run([str(export_dir / "run_stages.py"), str(export_dir), "--check"], cwd=tmp_path)
  assert "identical" in check
  example = np.load(export_dir / "example.npz")
  assert example["inputs"].shape == (5, 28, 28, 1)


def test_staged_inference_benchmark_runs(tiny_run, tmp_path):
  output = tmp_path / "bench.json"
  out = _run(["benchmarks/staged_inference.py", f"--workdir={tiny_run}", "--batch_sizes=1,8",
              "--stream_samples=6", "--num_samples=32", "--rounds=1", f"--output={output}"])
  assert "realized" in out
  result = json.loads(output.read_text())
  one, eight = result["batches"]
  assert (one["batch_size"], one["samples"], eight["batch_size"], eight["samples"]) == (1, 6, 8, 32)
  for b in (one, eight):
    passed = b["stage_samples"]["back"]
    assert b["stage_samples"]["front"] == b["samples"]
    assert b["pass_rate"] == pytest.approx(passed / b["samples"])
    assert b["expected_s_per_sample"] > 0 and b["realized_s_per_sample"] > 0
    assert b["compiles"]["back"] <= len(b["bucket_calls"]["back"]) + 1
  assert one["stage_calls"]["back"] == one["stage_samples"]["back"]   # batch 1: one call a sample
  flops = result["flops"]
  parts = {k: v["flops_xla"] for k, v in flops["parts"].items()}
  assert flops["expected_flops"]["xla"] == pytest.approx(
      parts["front"] + parts["gate"] + flops["pass_rate"] * parts["back"])
