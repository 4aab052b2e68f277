"""Each stage of a trained model as ONNX (`jax2onnx`), float32 and int8, plus a JSON manifest.

    export_onnx(stages, "export/fmnist_gc/onnx", examples, kind="gc", calibration=train_x,
                precisions=("float32", "int8"), thetas=[0.29], ...)

The same `ExportStage` programs as the StableHLO export (parameters baked in as initializers, the
batch axis symbolic: `"b"` in the ONNX graph), converted by jax2onnx; int8 models are post-training
quantized by `gcnet.runtime.onnx_quantize` on `calibration` (training inputs). Each later stage is
calibrated on what it sees when deployed: the GC back on the float front's `z` of the calibration
samples its gate passes, each codec decoder on the windows routed to it.

Layout:

    DIR/manifest.json        {"format": "gcnet-onnx/1", "kind", "precisions", "stages": [{"name",
                              "files": {"float32": "front.onnx", "int8": "front.int8.onnx"},
                              "inputs", "outputs"}], "thetas", "class_names", ...}
    DIR/<stage>.onnx, DIR/<stage>.int8.onnx
    DIR/example.npz          "inputs", "<precision>/<stage>/x" and "<precision>/<stage>/<output>"
    DIR/run_onnx.py          a copy of gcnet/runtime/onnx_runner.py (numpy + onnxruntime only)
"""

import contextlib
import json
from typing import Sequence

import jax
import numpy as np
from etils import epath

from gcnet.runtime import onnx_quantize, onnx_runner, optional

FORMAT = onnx_runner.FORMAT
RUNNER = "run_onnx.py"
PRECISIONS = ("float32", "int8")
MIN_CALIBRATION = 8     # fewer routed calibration rows than this: calibrate on all rows


def onnx_friendly(model):
  """`model` with XLA's own convolution and pooling forms (`conv_impl="xla"`, same parameters).

  The CPU forms of gcnet's models (strided slices, shifted sums: `gcnet.models.conv_cpu`) are fast
  in XLA on a CPU but convert to gathers and 4-D transposes in ONNX; `lax.conv` and
  `reduce_window` convert to ONNX `Conv` and `MaxPool`, which onnxruntime runs in its own kernels.
  """
  if "conv_impl" in getattr(model, "__dataclass_fields__", {}):
    return model.clone(conv_impl="xla")
  return model


def _accept_positional_max_pool() -> None:
  """jax2onnx (0.13) replaces `flax.linen.max_pool` while converting by a function whose
  `window_shape` is keyword-only; gcnet's models call `nn.max_pool(x, (2, 2), strides=...)`."""
  try:
    from jax2onnx.plugins.flax.linen import max_pool  # pylint: disable=g-import-not-at-top
  except ImportError:
    return
  plugin = max_pool.MaxPoolPlugin
  if getattr(plugin, "_gcnet_positional", False):
    return
  make_patch = plugin._make_patch.__func__  # pylint: disable=protected-access

  def _make_patch(cls, orig):
    patched = make_patch(cls, orig)
    def positional(x, window_shape=None, strides=None, padding="VALID", **kwargs):
      return patched(x, window_shape=kwargs.pop("window_shape", window_shape), strides=strides,
                     padding=padding)
    return positional

  plugin._make_patch = classmethod(_make_patch)  # pylint: disable=protected-access
  plugin._gcnet_positional = True  # pylint: disable=protected-access


class _SymbolicShapes:
  """Proxy of `onnx_ir` whose `Shape` names symbolic JAX dimensions (`b`) instead of `int()`-ing
  them: jax2onnx 0.13's `lax.pad` lowering passes the output shape with the symbolic batch axis
  straight to `ir.Shape`, which fails ("Symbolic dimension 'b' used in a context that requires a
  constant") for the keyword model's padded waveform."""

  def __init__(self, ir):
    self._ir = ir

  def __getattr__(self, name):
    return getattr(self._ir, name)

  def Shape(self, dims, *args, **kwargs):  # pylint: disable=invalid-name
    named = [d if d is None or isinstance(d, (int, str)) else str(d) for d in dims]
    return self._ir.Shape(named, *args, **kwargs)


def _symbolic_pad_shapes() -> None:
  try:
    from jax2onnx.plugins.jax.lax import pad  # pylint: disable=g-import-not-at-top
  except ImportError:
    return
  if not isinstance(pad.ir, _SymbolicShapes):
    pad.ir = _SymbolicShapes(pad.ir)


def _stft_magnitude_matmul(wave, n_fft: int, hop: int, win_length=None, power: float = 1.0):
  """`gcnet.audio.mel.stft_magnitude` with the real FFT as two matmuls (cos and sin DFT matrices,
  `[n_fft, n_fft // 2 + 1]`): the same values to float tolerance, in ops every ONNX runtime has
  (jax2onnx 0.13 lowers `rfft` to a `DFT` node that onnxruntime rejects)."""
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from gcnet.audio import mel  # pylint: disable=g-import-not-at-top
  win_length = n_fft if win_length is None else win_length
  window = np.hanning(win_length + 1)[:-1].astype(np.float32)
  frames = (mel.frame(jnp.asarray(wave, jnp.float32), win_length, hop) * window)[..., :n_fft]
  angle = 2 * np.pi * np.outer(np.arange(frames.shape[-1]), np.arange(n_fft // 2 + 1)) / n_fft
  real = frames @ np.cos(angle).astype(np.float32)
  imag = frames @ (-np.sin(angle)).astype(np.float32)
  power_spectrum = real * real + imag * imag
  if power == 2.0:
    return power_spectrum
  return jnp.sqrt(power_spectrum) ** power


@contextlib.contextmanager
def _onnx_forms():
  """While converting: the STFT as matmuls (`_stft_magnitude_matmul`)."""
  from gcnet.audio import mel  # pylint: disable=g-import-not-at-top
  original = mel.stft_magnitude
  mel.stft_magnitude = _stft_magnitude_matmul
  try:
    yield
  finally:
    mel.stft_magnitude = original


def _symbolic_full() -> None:
  """jax2onnx 0.13 turns `jnp.full(shape, ...)` into a primitive with a static shape (it `int()`s
  every dimension); with the symbolic batch in `shape` (the codec's quantizer counts) the original
  `jnp.full` (a broadcast, which converts with symbolic shapes) is used instead."""
  try:
    import dataclasses  # pylint: disable=g-import-not-at-top
    from jax2onnx.plugins._patching import MonkeyPatchSpec  # pylint: disable=g-import-not-at-top
    from jax2onnx.plugins.jax.numpy import full  # pylint: disable=g-import-not-at-top
  except ImportError:
    return
  plugin = full.JnpFullPlugin
  if getattr(plugin, "_gcnet_symbolic", False):
    return
  specs_of = plugin.binding_specs.__func__

  def binding_specs(cls):
    specs = []
    for spec in specs_of(cls):
      if isinstance(spec, MonkeyPatchSpec) and spec.attr == "full":
        def make_value(orig, make=spec.make_value):
          patched = make(orig)
          def full_fn(shape, fill_value, dtype=None, **kwargs):
            dims = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
            if all(isinstance(d, (int, np.integer)) for d in dims):
              return patched(shape, fill_value, dtype, **kwargs)
            return orig(shape, fill_value, dtype=dtype, **kwargs)
          return full_fn
        spec = dataclasses.replace(spec, make_value=make_value)
      specs.append(spec)
    return specs

  plugin.binding_specs = classmethod(binding_specs)
  plugin._gcnet_symbolic = True  # pylint: disable=protected-access


@contextlib.contextmanager
def _jax_stack_primitive():
  """While converting: JAX's `stack` primitive (JAX >= 0.10) lowered by jax2onnx's `jnp.stack`
  plugin (jax2onnx 0.13 knows only its own `jax.numpy.stack` primitive; the same `axis` param)."""
  from jax2onnx.plugins import plugin_system  # pylint: disable=g-import-not-at-top
  plugin_system.import_all_plugins()
  registry = plugin_system.PLUGIN_REGISTRY
  added = "stack" not in registry and "jax.numpy.stack" in registry
  if added:
    registry["stack"] = registry["jax.numpy.stack"]
  try:
    yield
  finally:
    if added:
      del registry["stack"]


def stage_to_onnx(stage, *, opset: int = 21) -> bytes:
  """The serialized ONNX model of one `ExportStage`, batch axis symbolic ("b").

  jax2onnx traces `stage.fn` with its Flax and `jax.numpy` plugins, which replace layer methods
  (`nn.Conv.__call__`, ...) by their own functions and so bypass Flax's method interceptors; a
  stage with `jaxpr_first` (a `gcnet.insert.GatedAt` model) is traced by JAX first and jax2onnx
  converts that jaxpr's primitives (which lacks the plugins' transposed-conv forms, hence not
  for every stage)."""
  jax2onnx = optional.require("jax2onnx")
  _accept_positional_max_pool()
  _symbolic_pad_shapes()
  _symbolic_full()
  batch = jax.export.symbolic_shape("b")[0]
  arg = jax.ShapeDtypeStruct((batch,) + tuple(stage.input.shape), np.dtype(stage.input.dtype))
  convert = lambda fn: jax2onnx.to_onnx(fn, [arg], model_name=stage.name, opset=opset,
                                        input_names=["x"], output_names=list(stage.outputs))
  with _onnx_forms():
    if not stage.jaxpr_first:
      return convert(stage.fn).SerializeToString()
    traced = jax.make_jaxpr(stage.fn)(arg)
  with _jax_stack_primitive():
    return convert(lambda x: jax.core.eval_jaxpr(traced.jaxpr, traced.consts, x)
                   ).SerializeToString()


def _describe(values) -> list[dict]:
  out = []
  for v in values:
    t = v.type.tensor_type
    shape = [d.dim_param if d.dim_param else int(d.dim_value) for d in t.shape.dim]
    out.append({"name": v.name, "shape": shape,
                "dtype": str(np.dtype(optional.require("onnx").helper.tensor_dtype_to_np_dtype(
                    t.elem_type)))})
  return out


def _routed_calibration(kind: str, index: int, outputs: list, thetas) -> dict:
  """`{stage index: calibration inputs}` of the stages fed by stage `index`'s float outputs."""
  enough = lambda rows, fallback: rows if len(rows) >= MIN_CALIBRATION else fallback
  if kind == "gc":
    z, prob = outputs[0], np.asarray(outputs[-1]).reshape(-1)
    passed = z[prob >= thetas[index]] if thetas is not None else z
    return {index + 1: enough(passed, z)}
  windows, heavy = outputs[0], np.asarray(outputs[1]).reshape(-1).astype(bool)
  return {1: enough(windows[heavy], windows), 2: enough(windows[~heavy], windows)}


def export_onnx(stages: Sequence, directory, example_inputs, *, kind: str,
                calibration=None, precisions: Sequence[str] = ("float32",), thetas=None,
                **manifest_fields) -> dict:
  """Converts `stages` to ONNX (and int8), writes the files of the module docstring.

  Args:
    stages: `ExportStage`s in execution order (GC: `[front/stage_i]*G + [back]`; codec:
      encoder_switch, heavy_decoder, light_decoder).
    directory: created if missing.
    example_inputs: `[n, ...]` inputs of the first stage for `example.npz`.
    kind: "gc" or "dsl_codec".
    calibration: `[m, ...]` first-stage inputs (training examples); needed for "int8".
    precisions: subset of ("float32", "int8"); float32 is always written (int8 is made from it).
    thetas: per-gate thresholds (GC; also route the calibration rows to the back).
    manifest_fields: more JSON-serialisable manifest entries.
  Returns:
    the manifest.
  """
  ort = optional.require("onnxruntime")
  onnx = optional.require("onnx")
  unknown = set(precisions) - set(PRECISIONS)
  if unknown:
    raise ValueError(f"Unknown precision(s) {sorted(unknown)}: use {PRECISIONS}.")
  precisions = ["float32"] + [p for p in precisions if p != "float32"]
  if "int8" in precisions and calibration is None:
    raise ValueError("int8 export needs calibration inputs (training examples).")
  directory = epath.Path(directory)
  directory.mkdir(parents=True, exist_ok=True)
  entries, arrays = [], {"inputs": np.asarray(example_inputs)}
  calib = {0: np.asarray(calibration)} if calibration is not None else {}
  x = {p: np.asarray(example_inputs) for p in precisions}
  first = {}
  for index, stage in enumerate(stages):
    float_bytes = stage_to_onnx(stage)
    model = onnx.load_from_string(float_bytes)
    files = {"float32": f"{stage.name}.onnx"}
    (directory / files["float32"]).write_bytes(float_bytes)
    float_session = onnx_runner.session(float_bytes)
    if "int8" in precisions:
      files["int8"] = f"{stage.name}.int8.onnx"
      (directory / files["int8"]).write_bytes(
          onnx_quantize.quantize_int8(float_bytes, calib[index], op_types=(
              onnx_quantize.GATED_STAGE_OPS if "gate_prob" in stage.outputs
              else onnx_quantize.QUANTIZED_OPS)))
    routes_next = kind == "gc" or index == 0
    if index in calib and index < len(stages) - 1 and routes_next:
      calib.update(_routed_calibration(kind, index, onnx_runner.call(float_session, calib[index]),
                                       thetas))
    entries.append({"name": stage.name, "files": files, "inputs": _describe(model.graph.input),
                    "outputs": _describe(model.graph.output)})
    for p in precisions:
      sess = float_session if p == "float32" else onnx_runner.session(
          (directory / files[p]).read_bytes())
      outs = onnx_runner.call(sess, x[p])
      arrays[f"{p}/{stage.name}/x"] = x[p]
      for name, value in zip(stage.outputs, outs):
        arrays[f"{p}/{stage.name}/{name}"] = value
      first.setdefault(p, outs[0])
      x[p] = outs[0] if kind == "gc" else first[p]
  manifest = {"format": FORMAT, "kind": kind, "stages": entries, "precisions": precisions,
              "batch_dim": "b", "params": "baked in as initializers", "example": "example.npz",
              "converter": f"jax2onnx {getattr(optional.require('jax2onnx'), '__version__', '?')}",
              "onnxruntime": ort.__version__, **({"thetas": list(map(float, thetas))}
                                                 if thetas is not None else {}),
              **manifest_fields}
  with (directory / "example.npz").open("wb") as f:
    np.savez(f, **arrays)
  (directory / onnx_runner.MANIFEST).write_text(json.dumps(manifest, indent=2))
  (directory / RUNNER).write_text(epath.Path(onnx_runner.__file__).read_text())
  return manifest
