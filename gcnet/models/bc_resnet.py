"""Broadcasted residual blocks (BC-ResNet, Kim et al. 2021) for the keyword spotter, without norm.

A BC-ResNet block splits a 2-D convolution over (time, frequency) into a cheap frequency-wise
depthwise convolution on the full feature map and a temporal one on its frequency average, whose
output is broadcast back over frequency and added to the residual:

    x   = transition(x)                                  # 1x1 conv (+ stride) if shape changes
    f2  = depthwise_freq(x)                              # [B, T, F, C], kernel (1, 3)
    t   = pointwise(swish(depthwise_time(mean_F(f2))))   # [B, T, 1, C], kernel (3, 1)
    out = relu(x + f2 + t)                               # t broadcast over F

Per position that is 3 + 3/F + C multiply-adds per channel instead of a DS block's 9 + C, which
keeps the always-on front cheap while the temporal branch still sees the whole spectrum. No batch
or sub-spectral norm: like the DS-CNN here, train and eval apply the same function.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp


class BCResBlock(nn.Module):
  """`[B, T, F, C_in] -> [B, T / s_t, F / s_f, features]` (see module doc).

  Attributes:
    features: output channels.
    strides: (time, frequency) stride of the transition conv.
    dtype: computation dtype.
    conv_fn: `nn.Conv`'s `conv_general_dilated` (None: XLA's own), as `kws._conv_fn` gives it.
  """

  features: int
  strides: tuple[int, int] = (1, 1)
  dtype: jnp.dtype = jnp.float32
  conv_fn: object = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    c = self.features
    if x.shape[-1] != c or tuple(self.strides) != (1, 1):
      x = nn.relu(nn.Conv(c, (1, 1), strides=tuple(self.strides), dtype=self.dtype,
                          name="transition")(x))
    kw = dict(padding="SAME", feature_group_count=c, dtype=self.dtype,
              conv_general_dilated=self.conv_fn)
    f2 = nn.Conv(c, (1, 3), name="depthwise_freq", **kw)(x)
    t = nn.Conv(c, (3, 1), name="depthwise_time", **kw)(f2.mean(axis=2, keepdims=True))
    t = nn.Conv(c, (1, 1), dtype=self.dtype, name="pointwise")(nn.swish(t))
    return nn.relu(x + f2 + t)
