"""ONNX stages (jax2onnx, float32 and int8) give the JAX stages' outputs at any batch size; a
missing extra or an unavailable format is an error that says what to do."""

import importlib
import json

import numpy as np
import pytest

pytest.importorskip("jax2onnx")
pytest.importorskip("onnxruntime")

from gcnet.runtime import (StagedModel, TensorSpec, export, gc_export_stages, onnx_export,  # noqa: E402
                           onnx_runner, optional)


def test_onnx_stages_match_jax_stages_with_a_symbolic_batch(gc2_model, tmp_path):
  model, params, images = gc2_model
  staged = StagedModel(model, params)
  _, probs = staged.compose(images)
  thetas = np.median(np.asarray(probs), axis=0).tolist()
  stages = gc_export_stages(staged, TensorSpec((28, 28, 1), np.dtype(np.uint8)))
  manifest = onnx_export.export_onnx(stages, tmp_path, images[:4], kind="gc", thetas=thetas,
                                     calibration=images, precisions=("float32", "int8"),
                                     background_class=3)
  assert manifest["format"] == "gcnet-onnx/1"
  assert [s["name"] for s in manifest["stages"]] == ["stage_0", "stage_1", "back"]
  assert manifest["stages"][0]["inputs"][0] == {"name": "x", "shape": ["b", 28, 28, 1],
                                                "dtype": "uint8"}
  assert manifest["stages"][2]["outputs"][0]["shape"] == ["b", 4]
  assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
  assert (tmp_path / "run_onnx.py").read_text() == open(onnx_runner.__file__).read()
  runner = onnx_runner.Runner(str(tmp_path))
  for batch in (1, 7):                      # neither is the example's batch of 4
    h = images[:batch]
    for i, name in enumerate(runner.names):
      got = runner.stage(name, h)
      want = staged.stage(i)(h)
      want = list(want) if isinstance(want, tuple) else [want]
      for g, w in zip(got, want):
        np.testing.assert_allclose(g, np.asarray(w), atol=2e-5, rtol=1e-5)
      h = np.asarray(want[0])
  assert all(d < 1e-5 for d in runner.check(str(tmp_path)).values())
  int8 = onnx_runner.Runner(str(tmp_path), precision="int8")
  assert all(d == 0.0 for d in int8.check(str(tmp_path)).values())
  z8, p8 = int8.stage("stage_0", images)
  z, p = staged.stage(0)(images)
  assert np.max(np.abs(z8 - np.asarray(z))) < 0.1 * np.max(np.abs(np.asarray(z)))
  assert (tmp_path / "back.int8.onnx").stat().st_size < 0.5 * (tmp_path / "back.onnx").stat().st_size


def test_missing_extra_names_the_extra_to_install(monkeypatch):
  real = importlib.import_module

  def fake(name, *args):
    if name == "jax2onnx":
      raise ImportError("No module named 'jax2onnx'")
    return real(name, *args)

  monkeypatch.setattr(importlib, "import_module", fake)
  with pytest.raises(optional.MissingExtra, match=r'pip install -e "\.\[onnx\]"'):
    optional.require("jax2onnx")


def test_unknown_and_unavailable_formats_say_what_to_do(tmp_path):
  with pytest.raises(ValueError, match="choose from stablehlo,onnx,litert"):
    export.export_run(str(tmp_path), str(tmp_path / "out"), formats=["tflite"])
  with pytest.raises(ValueError, match="docs/deploy.md"):
    export.export_run(str(tmp_path), str(tmp_path / "out"), formats=["litert"])
  with pytest.raises(ValueError, match="add --format=onnx"):
    export.export_run(str(tmp_path), str(tmp_path / "out"), quantize=["int8"])


def test_codec_onnx_stages_decode_with_hard_routing_like_jax(tmp_path):
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from gcnet.models.codec import from_config  # pylint: disable=g-import-not-at-top
  from gcnet.models.codec import StagedCodec  # pylint: disable=g-import-not-at-top
  from gcnet.runtime import codec_export_stages  # pylint: disable=g-import-not-at-top
  from tests.models.codec.codec_testutil import fill_variables  # pylint: disable=g-import-not-at-top
  model = from_config({"size": "tiny"})
  variables = fill_variables(model, jnp.zeros((2, 640)))
  wave = np.random.default_rng(0).normal(0, 0.3, (3, 640)).astype(np.float32)
  recon, counts = StagedCodec(model, variables)(wave)
  stages = codec_export_stages(onnx_export.onnx_friendly(model), variables, 640)
  manifest = onnx_export.export_onnx(stages, tmp_path, wave[:2], kind="dsl_codec")
  assert manifest["stages"][0]["inputs"][0]["shape"] == ["b", 640]
  out = onnx_runner.Runner(str(tmp_path)).run_codec(wave)       # batch 3: not the example's 2
  heavy = np.asarray(counts["heavy"], bool)
  np.testing.assert_array_equal(out["heavy"], heavy)
  np.testing.assert_allclose(out["recon"], np.asarray(recon), atol=1e-4)
  assert out["counts"] == {"encoder_switch": 3, "heavy_decoder": int(heavy.sum()),
                           "light_decoder": int((~heavy).sum())}
