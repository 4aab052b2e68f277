"""Optional dependencies of the export formats: a missing one is an error that names its extra.

    jax2onnx = optional.require("jax2onnx", extra="onnx")   # ImportError: pip install -e ".[onnx]"
"""

import importlib

# Module -> the pyproject extra that installs it.
EXTRAS = {"jax2onnx": "onnx", "onnx": "onnx", "onnxruntime": "onnx",
          "onnxruntime.quantization": "onnx"}


class MissingExtra(ImportError):
  """An optional package is not installed; the message says which extra installs it."""


def require(module: str, extra: str | None = None):
  """Imports `module`, or raises `MissingExtra` saying `pip install -e ".[extra]"`."""
  extra = extra or EXTRAS.get(module, module)
  try:
    return importlib.import_module(module)
  except ImportError as e:
    raise MissingExtra(
        f"{module} is not installed ({e}); the {extra!r} export format needs the optional extra: "
        f"pip install -e \".[{extra}]\" (or pip install \"gcnet[{extra}]\").") from e
