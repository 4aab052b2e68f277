"""The PyTorch twin of the heavy-only codec (benchmarks/torch_codec.py) matches gcnet's model."""

import os
import sys

import jax
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is optional: pip install torch (gcnet[bench])")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks import torch_codec  # pylint: disable=wrong-import-position
from experiments import codec_dsl  # pylint: disable=wrong-import-position
from gcnet.models.codec import codec  # pylint: disable=wrong-import-position


@pytest.fixture(scope="module")
def gcnet_model():
  return codec.from_config(codec_dsl.get_config("heavy").model)


@pytest.mark.parametrize("arg", ["heavy", "heavy,transposed"])
def test_same_parameter_count(arg):
  model = codec.from_config(codec_dsl.get_config(arg).model)
  variables = model.init({"params": jax.random.key(0), "dropout": jax.random.key(0)},
                         np.zeros((1, 400), np.float32))
  expected = sum(x.size for x in jax.tree.leaves(variables["params"]))
  assert torch_codec.num_params(torch_codec.from_model_config(model)) == expected


def test_frame_decoder_twin_computes_gcnet_decoder():
  from benchmarks import torch_frame_decoder  # pylint: disable=g-import-not-at-top
  from gcnet.models.codec.frame_decoder import FrameDecoder  # pylint: disable=g-import-not-at-top
  decoder = FrameDecoder(channels=8, num_blocks=2)
  h = np.random.default_rng(0).standard_normal((2, 6, 4)).astype(np.float32)
  p = jax.tree.map(np.asarray, decoder.init(jax.random.key(0), h)["params"])
  twin = torch_frame_decoder.FrameDecoder(4, 8, 2, hop=40)
  t = lambda x: torch.from_numpy(np.array(x))
  with torch.no_grad():
    twin.stem.weight.copy_(t(p["stem"]["conv"]["kernel"].transpose(2, 1, 0)))
    twin.stem.bias.copy_(t(p["stem"]["conv"]["bias"]))
    for i, block in enumerate(twin.blocks):
      q = p[f"block{i}"]
      block.depthwise.weight.copy_(t(q["depthwise"]["kernel"].transpose(2, 1, 0)))
      block.depthwise.bias.copy_(t(q["depthwise"]["bias"]))
      block.norm.weight.copy_(t(q["norm"]["scale"]))
      block.norm.bias.copy_(t(q["norm"]["bias"]))
      for name in ("expand", "project"):
        getattr(block, name).weight.copy_(t(q[name]["kernel"].T))
        getattr(block, name).bias.copy_(t(q[name]["bias"]))
      block.scale.copy_(t(q["scale"]))
    twin.norm.weight.copy_(t(p["norm"]["scale"]))
    twin.norm.bias.copy_(t(p["norm"]["bias"]))
    twin.head.weight.copy_(t(p["head"]["kernel"].T))
    twin.head.bias.copy_(t(p["head"]["bias"]))
    got = twin(torch.from_numpy(h).transpose(1, 2)).numpy()
  np.testing.assert_allclose(got, np.asarray(decoder.apply({"params": p}, h)), atol=2e-4)


def test_step_shapes_and_ema(gcnet_model):
  config = codec_dsl.get_config("heavy")
  twin = torch_codec.from_model_config(gcnet_model)
  wave = 0.1 * torch.randn(2, 900)   # not a multiple of the 400-sample segment: padded, cropped
  recon, commit = twin(wave)
  assert recon.shape == (2, 900) and commit.ndim == 0
  before = twin.quantizer.codebook.clone()
  loss = torch_codec.CodecTrainer(twin, config.train, config.loss, 8000).step(wave)
  assert torch.isfinite(loss)
  assert not torch.equal(before, twin.quantizer.codebook)


def test_rejects_other_codecs():
  dsl = codec.from_config(codec_dsl.get_config("dsl").model)
  with pytest.raises(ValueError, match="heavy-only"):
    torch_codec.from_model_config(dsl)
