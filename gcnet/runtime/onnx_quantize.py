"""int8 post-training static quantization of one ONNX stage (onnxruntime.quantization).

    int8_bytes = quantize_int8(float_bytes, calibration)   # calibration: [n, ...] stage inputs

The learned layers are quantized: `Conv`, `Gemm` and `MatMul` get int8 weights per output channel
and uint8 activations per tensor (QDQ format: QuantizeLinear / DequantizeLinear pairs around each
quantized op, which onnxruntime fuses into integer kernels), ranges calibrated by MinMax over
`calibration` (a few hundred training examples, fed in batches). Everything else stays float32:
elementwise ops, pooling, the gate's sigmoid, and the keyword model's log-mel features (its DFT and
mel matrices are `Einsum` constants: int8 there, before a `log`, would wreck the features).
(int8 activations with every op quantized trip onnxruntime 1.32's quantizer: a QuantizeLinear
with an int8 output and a uint8 zero point; uint8 activations are its default.)
"""

import os
import tempfile

import numpy as np

from gcnet.runtime import optional


SHAPE_OPS = ("Expand", "Reshape", "Cast", "Unsqueeze", "Squeeze", "Identity", "Transpose")


def nonfinite_consumers(model) -> list[str]:
  """Names of the nodes fed by a non-finite constant (e.g. `jnp.where(x > 0, y, nan)`), through
  shape-only ops: calibrating their inputs gives NaN ranges, so they stay float32."""
  from onnx import numpy_helper  # pylint: disable=g-import-not-at-top
  tainted = {i.name for i in model.graph.initializer
             if numpy_helper.to_array(i).dtype.kind == "f"
             and not np.isfinite(numpy_helper.to_array(i)).all()}
  excluded = []
  for node in model.graph.node:              # nodes are in topological order
    if tainted & set(node.input):
      if node.op_type in SHAPE_OPS:
        tainted.update(node.output)
      excluded.append(node.name)
  return excluded


def drop_zero_scalar_bias(model) -> None:
  """Removes (in place) the `C` input of each `Gemm` whose `C` is a scalar zero constant.

  jax2onnx lowers a bias-free `dot_general` to `Gemm` with `C = 0` (0-d); onnxruntime's
  per-channel quantizer indexes `C` as a vector and fails. `C` is optional: no `C`, same values."""
  from onnx import numpy_helper  # pylint: disable=g-import-not-at-top
  scalars = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer if not i.dims}
  for node in model.graph.node:
    if (node.op_type == "Gemm" and len(node.input) == 3 and node.input[2] in scalars
        and not scalars[node.input[2]].any()):
      del node.input[2]


class _Reader:
  """A `CalibrationDataReader` over `[n, ...]` inputs, in batches of `batch` rows."""

  def __init__(self, input_name: str, inputs: np.ndarray, batch: int):
    self._batches = iter([{input_name: inputs[i:i + batch]} for i in range(0, len(inputs), batch)])

  def get_next(self):
    return next(self._batches, None)


QUANTIZED_OPS = ("Conv", "Gemm", "MatMul")
# A stage that ends in a gate: its convolutions in int8, the gate's small MLP (its only Gemms, about
# 1k parameters) in float32, so that the stop decision at a low theta moves as little as possible.
GATED_STAGE_OPS = ("Conv", "MatMul")


def quantize_int8(model_bytes: bytes, calibration: np.ndarray, *, batch: int = 32,
                  per_channel: bool = True, op_types: tuple = QUANTIZED_OPS) -> bytes:
  """The int8 model of a float32 ONNX model with one input, calibrated on `calibration`.

  Args:
    model_bytes: a serialized float32 ModelProto (one input, symbolic batch axis).
    calibration: `[n, ...]` inputs of that model (its dtype), e.g. 256 training examples.
    batch: calibration rows per call.
    per_channel: per-output-channel weight scales (Conv, Gemm/MatMul).
    op_types: the op types to quantize (the others stay float32).
  Returns:
    the serialized int8 (QDQ) model.
  """
  onnx = optional.require("onnx")
  quant = optional.require("onnxruntime.quantization")
  calibration = np.asarray(calibration)
  if not len(calibration):
    raise ValueError("int8 quantization needs calibration inputs (got none).")
  model = onnx.load_from_string(model_bytes)
  drop_zero_scalar_bias(model)
  input_name = model.graph.input[0].name
  with tempfile.TemporaryDirectory() as tmp:
    src, dst = os.path.join(tmp, "float.onnx"), os.path.join(tmp, "int8.onnx")
    onnx.save(model, src)
    quant.quantize_static(
        src, dst, _Reader(input_name, calibration, batch), quant_format=quant.QuantFormat.QDQ,
        activation_type=quant.QuantType.QUInt8, weight_type=quant.QuantType.QInt8,
        per_channel=per_channel, calibrate_method=quant.CalibrationMethod.MinMax,
        op_types_to_quantize=list(op_types), nodes_to_exclude=nonfinite_consumers(model))
    with open(dst, "rb") as f:
      return f.read()
