"""benchmarks/device_check.sh runs end to end on the CPU at tiny sizes and writes its JSON."""

import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_device_check_writes_every_number(tmp_path):
  env = {**os.environ, "DEVICE_CHECK_TINY": "1", "JAX_PLATFORMS": "cpu",
         "XLA_FLAGS": "", "PYTHON": os.environ.get("PYTHON", "") or __import__("sys").executable}
  result = subprocess.run(["bash", "benchmarks/device_check.sh", str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
  assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
  report = json.loads((tmp_path / "device_check.json").read_text())
  assert report["bf16_matmul_peak_flops"] > 0
  assert [r["family"] for r in report["rows"]] == ["image", "keyword", "codec"]
  for row in report["rows"]:
    assert row["steps_per_s"]["float32"] > 0 and row["steps_per_s"]["bfloat16"] > 0
    assert 0 < row["share_of_bf16_matmul_peak"] and row["loss_rel_diff"] < 0.1
