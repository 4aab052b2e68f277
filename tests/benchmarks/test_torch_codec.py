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


def test_same_parameter_count(gcnet_model):
  variables = gcnet_model.init({"params": jax.random.key(0), "dropout": jax.random.key(0)},
                               np.zeros((1, 400), np.float32))
  expected = sum(x.size for x in jax.tree.leaves(variables["params"]))
  assert torch_codec.num_params(torch_codec.from_model_config(gcnet_model)) == expected


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
