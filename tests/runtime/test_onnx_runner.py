"""The JAX-free runner: an ONNX export of a trained run, run with onnxruntime in a process where
importing jax, flax or gcnet raises, reproduces the JAX model's gated predictions on the test
split, and runs the back only on the passed samples."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("jax2onnx")
pytest.importorskip("onnxruntime")

from gcnet.runtime import StagedModel, export_run, load_run  # noqa: E402

# Fresh interpreter: a meta-path finder makes `import jax` (flax, gcnet) raise; runs run_onnx.py.
CHILD = r"""
import importlib.abc, importlib.util, json, sys

class Blocked(importlib.abc.MetaPathFinder):
  def find_spec(self, name, path=None, target=None):
    if name.split(".")[0] in ("jax", "jaxlib", "flax", "gcnet"):
      raise ImportError(f"{name} is blocked: the ONNX runner must run without it")

sys.meta_path.insert(0, Blocked())
import numpy as np

directory, inputs_path, out_path = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("run_onnx", directory + "/run_onnx.py")
run_onnx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_onnx)
x = np.load(inputs_path)
report = {}
for precision in ("float32", "int8"):
  runner = run_onnx.Runner(directory, precision)
  out = runner.run_gc(x)
  report[precision] = {"counts": out.pop("counts"),
                       "one": [list(runner.run_one(s)) for s in x[:5]]}
  np.savez(f"{out_path}.{precision}.npz", **out)
report["check"] = run_onnx.Runner(directory, "int8").check(directory)
try:
  import jax
  report["jax_importable"] = True
except ImportError:
  report["jax_importable"] = False
report["loaded"] = sorted({m.split(".")[0] for m in sys.modules} & {"jax", "flax", "gcnet"})
print(json.dumps(report))
"""


def test_onnx_runner_without_jax_reproduces_the_test_split(tiny_run, tmp_path):
  run = load_run(tiny_run)
  test = run.split_inputs("test")
  staged = StagedModel(run.model, run.params)
  logits, probs = staged.compose(test["inputs"])
  probs = np.asarray(probs)[:, 0]
  theta = float(np.median(probs))                  # about half the samples pass
  export_run(tiny_run, str(tmp_path / "export"), theta=[theta], formats=["onnx"],
             quantize=["none", "int8"], num_calibration=64)
  np.save(tmp_path / "x.npy", test["inputs"])
  env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "XLA_FLAGS")}
  child = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "export"),
                          str(tmp_path / "x.npy"), str(tmp_path / "out")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
  assert child.returncode == 0, child.stderr[-3000:]
  report = json.loads(child.stdout.strip().splitlines()[-1])
  assert report["jax_importable"] is False and report["loaded"] == []
  assert all(d == 0.0 for d in report["check"].values()), report["check"]

  passed = probs >= theta
  background = run.model.num_classes - 1
  jax_pred = np.where(passed, np.argmax(np.asarray(logits), -1), background)
  out = np.load(tmp_path / "out.float32.npz")
  np.testing.assert_array_equal(out["predictions"], jax_pred)
  np.testing.assert_array_equal(out["stopped_at"], np.where(passed, 1, 0))
  assert np.isnan(out["logits"][~passed]).all()
  np.testing.assert_allclose(out["logits"][passed], np.asarray(logits)[passed], atol=1e-4)
  counts = report["float32"]["counts"]
  assert counts == {"front": len(passed), "back": int(passed.sum())}
  assert 0 < counts["back"] < counts["front"]
  assert report["float32"]["one"] == [[int(p), int(s)] for p, s in
                                      zip(out["predictions"][:5], out["stopped_at"][:5])]
  int8 = np.load(tmp_path / "out.int8.npz")
  assert np.mean(int8["predictions"] == jax_pred) > 0.8
