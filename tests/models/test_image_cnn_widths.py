"""The image CNN's optional `model.widths` override of its size's block channels."""

import jax
import jax.numpy as jnp
import ml_collections as mlc

from gcnet import models


def _config(widths):
  return mlc.ConfigDict(dict(name="image_cnn", size="small", widths=widths, gated=True,
                             gc_after=(0,), gc=dict(compress=True, pooling="meanmax",
                                                    gate_hidden=8),
                             dtype="float32", conv_impl="xla"))


def _shapes(widths):
  model = models.build(_config(widths), 4)
  params = model.init(jax.random.key(0), jnp.zeros((1, 28, 28, 1), jnp.uint8))["params"]
  return model, jax.tree.map(lambda x: x.shape, params)


def test_empty_widths_keep_the_size_and_a_tuple_overrides_them():
  model, shapes = _shapes(())
  assert tuple(model.widths) == (16, 32)
  assert shapes["blocks_1"]["conv0"]["kernel"] == (3, 3, 16, 32)
  model, shapes = _shapes((16, 64))
  assert tuple(model.widths) == (16, 64)
  assert shapes["blocks_0"]["conv0"]["kernel"] == (3, 3, 1, 16)      # the front is unchanged
  assert shapes["blocks_1"]["conv0"]["kernel"] == (3, 3, 16, 64)
  assert shapes["hidden"]["kernel"] == (7 * 7 * 64, 128)
