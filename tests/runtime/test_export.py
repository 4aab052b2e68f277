"""Exported stages reload in a fresh process without gcnet and give the model's outputs."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from gcnet.models.codec import StagedCodec, codec_stage_fns
from gcnet.runtime import (StagedModel, StagedRunner, TensorSpec, codec_export_stages,
                           export_to_directory, gc_export_stages, load_exported)
from gcnet.runtime import standalone

# Runs in a fresh interpreter that cannot import gcnet: loads the export with run_stages.py only.
CHILD = r"""
import importlib.abc, importlib.util, json, sys


class NoGcnet(importlib.abc.MetaPathFinder):
  def find_spec(self, name, path=None, target=None):
    if name == "gcnet" or name.startswith("gcnet."):
      raise ImportError("the exported stages must run without gcnet")


sys.meta_path.insert(0, NoGcnet())
import numpy as np

directory, inputs_path, out_path = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("run_stages", directory + "/run_stages.py")
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)
manifest, stages = runner.load(directory)
x = np.load(inputs_path)
outs, h = {}, x
for entry in manifest["stages"]:
  values = runner._outputs(stages[entry["name"]], h, manifest["batch_dim"])
  outs.update({entry["name"] + "/" + s["name"]: v for s, v in zip(entry["outputs"], values)})
  h = values[0]
gated = runner.run_gc(manifest, stages, x)
np.savez(out_path, **outs, **{"gated/" + k: v for k, v in gated.items()})
print(json.dumps({"diffs": runner.check(directory),
                  "gcnet_loaded": any(m.split(".")[0] == "gcnet" for m in sys.modules)}))
"""


def _export_gc(model, params, images, directory, thetas, **kwargs):
  staged = StagedModel(model, params)
  stages = gc_export_stages(staged, TensorSpec((28, 28, 1), np.dtype(np.uint8)))
  return staged, export_to_directory(stages, directory, images[:8], kind="gc", thetas=thetas,
                                     background_class=3, class_names=["a", "b", "c", "bg"],
                                     **kwargs)


def test_exported_stages_reload_in_a_fresh_process_without_gcnet(gc2_model, tmp_path):
  model, params, images = gc2_model
  logits, probs = StagedModel(model, params).compose(images)
  thetas = np.median(np.asarray(probs), axis=0).tolist()
  staged, manifest = _export_gc(model, params, images, tmp_path / "export", thetas)
  assert [s["name"] for s in manifest["stages"]] == ["stage_0", "stage_1", "back"]
  assert manifest["stages"][0]["inputs"][0] == {"name": "x", "shape": ["b", 28, 28, 1],
                                                "dtype": "uint8"}
  assert manifest["stages"][2]["outputs"][0]["shape"] == ["b", 4]
  assert json.loads((tmp_path / "export" / "manifest.json").read_text()) == manifest

  inputs = images[8:21]                         # 13 samples: not the exported example's batch
  np.save(tmp_path / "x.npy", inputs)
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  child = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "export"),
                          str(tmp_path / "x.npy"), str(tmp_path / "out.npz")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
  assert child.returncode == 0, child.stderr[-3000:]
  report = json.loads(child.stdout.strip().splitlines()[-1])
  assert not report["gcnet_loaded"]
  assert report["diffs"] and all(d == 0.0 for d in report["diffs"].values()), report["diffs"]

  out = np.load(tmp_path / "out.npz")
  h = inputs
  for i, name in enumerate(staged.names[:-1]):
    h, prob = staged.fns[i](params, h)
    np.testing.assert_allclose(out[f"{name}/z"], h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[f"{name}/gate_prob"], prob, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(out["back/logits"], logits[8:21], rtol=1e-5, atol=1e-5)
  local = StagedRunner(staged, thetas, max_batch=16)(inputs)
  np.testing.assert_array_equal(out["gated/predictions"], local.predictions)
  np.testing.assert_array_equal(out["gated/stopped_at"], local.stopped_at)


def test_fixed_batch_export(gc_model, tmp_path):
  model, params, images = gc_model
  staged, manifest = _export_gc(model, params, images, tmp_path, [0.5], polymorphic=False)
  assert manifest["batch_dim"] == 8
  assert manifest["stages"][0]["inputs"][0]["shape"] == [8, 28, 28, 1]
  loaded, stages = load_exported(tmp_path)
  assert loaded == manifest and sorted(stages) == ["back", "front"]
  # 11 rows run as padded chunks of 8 in the reference runner.
  z, prob = standalone._outputs(stages["front"], images[:11], 8)  # pylint: disable=protected-access
  ref_z, ref_prob = staged.fns[0](params, images[:11])
  np.testing.assert_allclose(z, ref_z, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(prob, ref_prob, rtol=1e-6, atol=1e-6)
  assert all(d == 0.0 for d in standalone.check(str(tmp_path)).values())


def test_codec_stages_compose_and_export(tmp_path):
  from gcnet.models.codec import from_config  # pylint: disable=g-import-not-at-top
  from tests.models.codec.codec_testutil import fill_variables  # pylint: disable=g-import-not-at-top
  model = from_config({"size": "tiny"})
  variables = fill_variables(model, jnp.zeros((2, 640)))
  wave = np.random.default_rng(0).normal(0, 0.3, (2, 640)).astype(np.float32)
  recon, counts = StagedCodec(model, variables)(wave)
  np.testing.assert_allclose(recon, model.apply(variables, wave)["recon"], rtol=1e-5, atol=1e-5)
  assert counts["heavy_segments"] + counts["light_segments"] == 2 * 640 // 160

  manifest = export_to_directory(codec_export_stages(model, variables, 640), tmp_path, wave,
                                 kind="dsl_codec", chain=False)
  assert [s["name"] for s in manifest["stages"]] == ["encoder_switch", "heavy_decoder",
                                                     "light_decoder"]
  _, stages = load_exported(tmp_path)
  fns = {k: jax.jit(f) for k, f in codec_stage_fns(model).items()}
  windows, heavy = stages["encoder_switch"].call(wave)
  ref_windows, ref_heavy = fns["encoder_switch"](variables, wave)
  np.testing.assert_allclose(windows, ref_windows, rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(heavy, ref_heavy)
  decoded = standalone.run_codec(manifest, stages, wave)   # hard routing with the exported stages
  np.testing.assert_allclose(decoded["recon"], recon, rtol=1e-4, atol=1e-5)
  np.testing.assert_array_equal(decoded["heavy"].reshape(-1), np.asarray(ref_heavy))
  for name in ("heavy_decoder", "light_decoder"):
    np.testing.assert_allclose(stages[name].call(np.asarray(windows[:3])),
                               fns[name](variables, ref_windows[:3]), rtol=1e-4, atol=1e-5)
