"""int8 post-training static quantization of one ONNX stage (onnxruntime.quantization).

    int8_bytes = quantize_int8(float_bytes, calibration)   # calibration: [n, ...] stage inputs

Weights are int8 per output channel, activations int8 per tensor (QDQ format: QuantizeLinear /
DequantizeLinear pairs around each quantized op, which onnxruntime fuses into int8 kernels), the
ranges calibrated by MinMax over `calibration` (a few hundred training examples, fed in batches).
Integer ops (indices, shapes) and the input cast of uint8 images stay as they are.
"""

import os
import tempfile

import numpy as np

from gcnet.runtime import optional


class _Reader:
  """A `CalibrationDataReader` over `[n, ...]` inputs, in batches of `batch` rows."""

  def __init__(self, input_name: str, inputs: np.ndarray, batch: int):
    self._batches = iter([{input_name: inputs[i:i + batch]} for i in range(0, len(inputs), batch)])

  def get_next(self):
    return next(self._batches, None)


def quantize_int8(model_bytes: bytes, calibration: np.ndarray, *, batch: int = 32,
                  per_channel: bool = True, exclude_ops: tuple = ()) -> bytes:
  """The int8 model of a float32 ONNX model with one input, calibrated on `calibration`.

  Args:
    model_bytes: a serialized float32 ModelProto (one input, symbolic batch axis).
    calibration: `[n, ...]` inputs of that model (its dtype), e.g. 256 training examples.
    batch: calibration rows per call.
    per_channel: per-output-channel weight scales (Conv, Gemm/MatMul).
    exclude_ops: op types to leave in float32 (e.g. ("Sigmoid",)).
  Returns:
    the serialized int8 (QDQ) model.
  """
  onnx = optional.require("onnx")
  quant = optional.require("onnxruntime.quantization")
  calibration = np.asarray(calibration)
  if not len(calibration):
    raise ValueError("int8 quantization needs calibration inputs (got none).")
  model = onnx.load_from_string(model_bytes)
  input_name = model.graph.input[0].name
  op_types = sorted({n.op_type for n in model.graph.node} - set(exclude_ops))
  with tempfile.TemporaryDirectory() as tmp:
    src, dst = os.path.join(tmp, "float.onnx"), os.path.join(tmp, "int8.onnx")
    with open(src, "wb") as f:
      f.write(model_bytes)
    quant.quantize_static(
        src, dst, _Reader(input_name, calibration, batch), quant_format=quant.QuantFormat.QDQ,
        activation_type=quant.QuantType.QInt8, weight_type=quant.QuantType.QInt8,
        per_channel=per_channel, calibrate_method=quant.CalibrationMethod.MinMax,
        op_types_to_quantize=op_types)
    with open(dst, "rb") as f:
      return f.read()
