"""CPU-friendly forms of convolutions and 2x2 max pooling (same parameters, same math).

Two parts of the image CNN's training step are slow on XLA's CPU backend (jax 0.10; measured in
docs/benchmarks.md):

- the gradient of `nn.max_pool` (XLA's `select_and_scatter`): about 45 of the 100 ms of a "small"
  model step at batch 128 on one core. Here pooling is the max of the four strided quarters of the
  input with a hand-written gradient (2-3 ms) that, like `nn.max_pool`'s, goes to the first maximum
  of each window.
- convolutions over few input channels (the first conv over 1- or 3-channel images): 3-6x slower
  than the same conv as patches + one matmul (im2col). Deeper convs are not: there XLA's convolution
  was as fast as or faster than im2col (concatenating patches along channels costs more than it
  saves) and than a kernel gradient written as matmuls, so they keep it.
- depthwise convolutions (`feature_group_count` = channels, the DS-CNN keyword spotter's): XLA's
  grouped convolution and its gradients are slow on CPU; here they are a sum over the kernel's
  offsets of strided slices times a per-channel weight, which XLA fuses into elementwise loops.

`conv_general_dilated_cpu` has `lax.conv_general_dilated`'s signature and is passed to
`nn.Conv(conv_general_dilated=...)`: the parameter tree and its initialisation do not change.
Accelerators keep XLA's kernels: `resolve_conv_impl("auto")` picks "cpu" only on the CPU backend.
"""

import jax
import jax.numpy as jnp
from jax import lax

CONV_IMPLS = ("auto", "xla", "cpu")
# Convolutions over at most this many input channels use im2col under conv_impl="cpu".
MAX_IM2COL_CHANNELS = 4
_NHWC = ("NHWC", "HWIO", "NHWC")


def resolve_conv_impl(impl: str) -> str:
  """"auto" -> "cpu" on the CPU backend, "xla" elsewhere (decided at trace time)."""
  if impl not in CONV_IMPLS:
    raise ValueError(f"Unknown conv_impl {impl!r}; use one of {CONV_IMPLS}, e.g. "
                     "--config.model.conv_impl=auto.")
  if impl == "auto":
    return "cpu" if jax.default_backend() == "cpu" else "xla"
  return impl


def _cpu_form(lhs, rhs, lhs_dilation, rhs_dilation, dimension_numbers, feature_group_count,
              batch_group_count, preferred_element_type) -> str | None:
  """"im2col", "depthwise" or None (keep XLA's conv) for a convolution's arguments.

  Both forms need 2-D NHWC/HWIO without dilation or batch groups; im2col takes ungrouped convs over
  at most MAX_IM2COL_CHANNELS input channels, depthwise takes one group per input channel with one
  output channel each (kernel `[kh, kw, 1, C]`).
  """
  if lhs.ndim != 4 or rhs.ndim != 4 or preferred_element_type is not None:
    return None
  ones = lambda v: v is None or all(int(s) == 1 for s in v)
  expected = lax.conv_dimension_numbers(lhs.shape, rhs.shape, _NHWC)
  given = lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
  if not (ones(lhs_dilation) and ones(rhs_dilation) and given == expected
          and batch_group_count == 1):
    return None
  channels = lhs.shape[3]
  if feature_group_count == 1 and rhs.shape[2] <= MAX_IM2COL_CHANNELS:
    return "im2col"
  if feature_group_count == channels > 1 and rhs.shape[2] == 1 and rhs.shape[3] == channels:
    return "depthwise"
  return None


def conv_general_dilated_cpu(lhs, rhs, window_strides, padding, lhs_dilation=None,
                             rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                             batch_group_count=1, precision=None, preferred_element_type=None):
  """`lax.conv_general_dilated` in forms that are fast on XLA's CPU backend.

  NHWC/HWIO convolutions over at most `MAX_IM2COL_CHANNELS` input channels are patches + one matmul
  (im2col); depthwise ones are a sum of shifted slices times per-channel weights; anything else is
  `lax.conv_general_dilated` itself.

  Args:
    lhs: `[B, H, W, C]` inputs.
    rhs: `[kh, kw, C, F]` kernel.
    (the rest as `lax.conv_general_dilated`.)
  Returns:
    `[B, H', W', F]`, equal to `lax.conv_general_dilated` up to float summation order.
  """
  form = _cpu_form(lhs, rhs, lhs_dilation, rhs_dilation, dimension_numbers, feature_group_count,
                   batch_group_count, preferred_element_type)
  if form is None:
    return lax.conv_general_dilated(
        lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
        dimension_numbers=dimension_numbers, feature_group_count=feature_group_count,
        batch_group_count=batch_group_count, precision=precision,
        preferred_element_type=preferred_element_type)
  strides = tuple(int(s) for s in (window_strides or (1, 1)))
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(lhs.shape[1:3], rhs.shape[:2], strides, padding)
  padding = tuple(tuple(int(p) for p in pair) for pair in padding)
  if form == "depthwise":
    return _depthwise(lhs, rhs, strides, padding)
  return _im2col(lhs, rhs, strides, padding, precision)


def _offsets(x, kernel_hw, strides, padding):
  """The input under each kernel offset (i, j), row-major: `kh * kw` arrays `[B, H', W', C]`."""
  kh, kw = kernel_hw
  sh, sw = strides
  x = jnp.pad(x, ((0, 0), padding[0], padding[1], (0, 0)))
  h, w = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
  return [x[:, i:i + (h - 1) * sh + 1:sh, j:j + (w - 1) * sw + 1:sw, :]
          for i in range(kh) for j in range(kw)]


def _depthwise(x, k, strides, padding):
  kh, kw = k.shape[:2]
  shifted = _offsets(x, (kh, kw), strides, padding)
  out = shifted[0] * k[0, 0, 0]
  for n in range(1, kh * kw):
    out = out + shifted[n] * k[n // kw, n % kw, 0]
  return out


def _im2col(x, k, strides, padding, precision):
  kh, kw, c, f = k.shape
  # Channel (i * kw + j) * C + c of the patches is input channel c at offset (i, j): HWIO order.
  patches = jnp.concatenate(_offsets(x, (kh, kw), strides, padding), axis=-1)
  b, h, w, _ = patches.shape
  y = jnp.matmul(patches.reshape(b * h * w, kh * kw * c), k.reshape(kh * kw * c, f),
                 precision=precision)
  return y.reshape(b, h, w, f)


def _quarters(x: jax.Array) -> list[jax.Array]:
  """The four elements of every 2x2 window in row-major order, each `[B, H//2, W//2, C]`."""
  x = x[:, :x.shape[1] // 2 * 2, :x.shape[2] // 2 * 2]
  return [x[:, i::2, j::2] for i in (0, 1) for j in (0, 1)]


@jax.custom_vjp
def max_pool_2x2(x: jax.Array) -> jax.Array:
  """2x2 max pooling, stride 2, VALID: `[B, H, W, C] -> [B, H//2, W//2, C]` (odd edges dropped).

  Equals `nn.max_pool(x, (2, 2), strides=(2, 2))`, gradient included: it goes to the first maximum
  of each window in row-major order. NaNs propagate as in `jnp.maximum`. Reverse-mode only.
  """
  a, b, c, d = _quarters(x)
  return jnp.maximum(jnp.maximum(a, b), jnp.maximum(c, d))


def _max_pool_fwd(x):
  return max_pool_2x2(x), x


def _max_pool_bwd(x, g):
  bsz, h, w, c = x.shape
  parts = _quarters(x)
  m = jnp.maximum(jnp.maximum(parts[0], parts[1]), jnp.maximum(parts[2], parts[3]))
  taken = jnp.zeros(m.shape, bool)
  grads = []
  for p in parts:
    hit = (p == m) & ~taken
    grads.append(jnp.where(hit, g, jnp.zeros_like(g)))
    taken = taken | hit
  # [B, H/2, W/2, (i, j), C] -> [B, H/2, i, W/2, j, C] -> [B, H', W', C]; zeros for odd edges.
  dx = jnp.stack(grads, axis=3).reshape(bsz, h // 2, w // 2, 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
  dx = dx.reshape(bsz, h // 2 * 2, w // 2 * 2, c)
  return (jnp.pad(dx, ((0, 0), (0, h % 2), (0, w % 2), (0, 0))),)


max_pool_2x2.defvjp(_max_pool_fwd, _max_pool_bwd)
