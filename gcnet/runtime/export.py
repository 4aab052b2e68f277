"""Each stage of a trained model as serialized StableHLO (`jax.export`), plus a JSON manifest.

    export_run("runs/fmnist_gc", "export/fmnist_gc")      # what `python -m gcnet.cli.export` runs

Design choices (see docs/deploy.md):

- **Parameters are baked in** as constants: a stage file is a self-contained program `x -> outputs`
  that needs nothing but `jax.export.deserialize` to run (no model code, no checkpoint).
- **The batch axis is symbolic** (`jax.export.symbolic_shape("b")`) by default: one file serves
  any batch size (each new size is compiled when first called). `polymorphic=False` exports at a
  fixed batch size instead (the one of the example inputs).
- The directory also holds `example.npz` (example inputs and every stage's outputs computed by the
  exported programs here) and `run_stages.py`, a copy of `gcnet.runtime.standalone`: a reference
  runner that uses jax and NumPy only.

Layout:

    DIR/manifest.json      {"format", "kind" ("gc" or "dsl_codec"), "stages": [{"name", "file",
                            "inputs": [{"name", "shape", "dtype"}], "outputs": [...]}], "thetas",
                            "class_names", "background_class", "batch_dim", "platforms", ...}
    DIR/<stage>.stablehlo  `Exported.serialize()` bytes
    DIR/example.npz        "inputs", "<stage>/<output>" arrays
    DIR/run_stages.py      standalone runner (python DIR/run_stages.py DIR --check)

Shapes in the manifest give the batch axis as the string "b" (symbolic) or as a number.
"""

import dataclasses
import json
from typing import Callable, Sequence

import jax
import numpy as np
from etils import epath

from gcnet.runtime import standalone
from gcnet.models.codec.staged import codec_stage_fns
from gcnet.runtime.load import load_run
from gcnet.runtime.staged_model import StagedModel, TensorSpec, output_names

FORMAT = standalone.FORMAT
MANIFEST = standalone.MANIFEST
EXAMPLE = standalone.EXAMPLE
RUNNER = "run_stages.py"


@dataclasses.dataclass
class ExportStage:
  """One program to export.

  Attributes:
    name: file stem and manifest name.
    fn: `x -> output or tuple of outputs`, parameters bound.
    input: the per-sample input spec (shape without the batch axis).
    outputs: names of the outputs, in order.
    jaxpr_first: the ONNX converter converts JAX's own jaxpr of `fn` instead of tracing `fn`
      itself (for a model that needs Flax's method interceptors, which jax2onnx's Flax patches
      bypass: `gcnet.insert.GatedAt`; the model says so with `intercepts_methods = True`).
  """
  name: str
  fn: Callable
  input: TensorSpec
  outputs: Sequence[str]
  jaxpr_first: bool = False


def gc_export_stages(staged: StagedModel, input_spec: TensorSpec) -> list[ExportStage]:
  """The `G + 1` stages of a GC model with its params bound (per-sample input of stage 0)."""
  specs = staged.specs(input_spec)
  stages = []
  jaxpr_first = getattr(staged.model, "intercepts_methods", False)
  for i, (fn, name) in enumerate(zip(staged.fns, staged.names)):
    stages.append(ExportStage(name, lambda x, fn=fn: fn(staged.params, x), specs[i][0][0],
                              output_names(staged.num_gates, i), jaxpr_first))
  return stages


def codec_export_stages(model, variables, num_samples: int, n_q: int | None = None):
  """Encoder + switch (input `[b, num_samples]` waveforms), heavy and light decoder (windows)."""
  variables = {k: variables[k] for k in ("params", "quantizer")}
  fns = codec_stage_fns(model, n_q)
  wave = TensorSpec((int(num_samples),), np.dtype(np.float32))
  windows, _ = jax.eval_shape(fns["encoder_switch"], variables,
                              jax.ShapeDtypeStruct((1, num_samples), np.float32))
  window = TensorSpec(tuple(int(d) for d in windows.shape[1:]), np.dtype(windows.dtype))
  bind = lambda f: (lambda x: f(variables, x))
  return [ExportStage("encoder_switch", bind(fns["encoder_switch"]), wave, ("windows", "heavy")),
          ExportStage("heavy_decoder", bind(fns["heavy_decoder"]), window, ("segments",)),
          ExportStage("light_decoder", bind(fns["light_decoder"]), window, ("segments",))]


def export_stage(stage: ExportStage, batch=None, platforms=None) -> jax.export.Exported:
  """`jax.export` of one stage; `batch`: None for a symbolic batch axis, else its fixed size."""
  dim = jax.export.symbolic_shape("b")[0] if batch is None else int(batch)
  arg = jax.ShapeDtypeStruct((dim,) + tuple(stage.input.shape), stage.input.dtype)
  return jax.export.export(jax.jit(stage.fn), platforms=platforms)(arg)


def _describe(avals, names) -> list[dict]:
  return [{"name": n, "shape": [d if isinstance(d, int) else str(d) for d in a.shape],
           "dtype": str(np.dtype(a.dtype))} for n, a in zip(names, avals)]


def export_to_directory(stages: Sequence[ExportStage], directory, example_inputs, *,
                        kind: str, polymorphic: bool = True, platforms=None,
                        chain: bool = True, **manifest_fields) -> dict:
  """Exports `stages`, writes the files described in the module docstring, returns the manifest.

  Args:
    stages: the programs, in execution order.
    directory: created if missing; existing stage files are overwritten.
    example_inputs: `[n, ...]` inputs of the first stage for `example.npz`.
    kind: "gc" or "dsl_codec" (what `run_stages.py` does with the stages).
    polymorphic: symbolic batch axis (else the batch size of `example_inputs`).
    platforms: e.g. `("cpu", "cuda")`; None: the platform of this process.
    chain: feed each stage the first output of the previous one in `example.npz` (GC stages);
      False: every later stage gets the first output of stage 0 (the codec's two decoders).
    manifest_fields: more JSON-serialisable manifest entries (thetas, class_names, ...).
  """
  directory = epath.Path(directory)
  directory.mkdir(parents=True, exist_ok=True)
  example_inputs = np.asarray(example_inputs)
  batch = None if polymorphic else example_inputs.shape[0]
  entries, arrays = [], {"inputs": example_inputs}
  x, first_out = example_inputs, None
  for stage in stages:
    exported = export_stage(stage, batch, platforms)
    (directory / f"{stage.name}.stablehlo").write_bytes(bytes(exported.serialize()))
    entries.append({"name": stage.name, "file": f"{stage.name}.stablehlo",
                    "inputs": _describe(exported.in_avals, ["x"]),
                    "outputs": _describe(exported.out_avals, stage.outputs)})
    outs = exported.call(x)
    outs = [np.asarray(o) for o in (outs if isinstance(outs, (tuple, list)) else [outs])]
    arrays[f"{stage.name}/x"] = np.asarray(x)
    for name, value in zip(stage.outputs, outs):
      arrays[f"{stage.name}/{name}"] = value
    first_out = outs[0] if first_out is None else first_out
    x = outs[0] if chain else first_out
  manifest = {"format": FORMAT, "kind": kind, "stages": entries,
              "batch_dim": "b" if polymorphic else int(example_inputs.shape[0]),
              "platforms": list(platforms or [jax.default_backend()]),
              "params": "baked in as constants", "example": EXAMPLE, **manifest_fields}
  with (directory / EXAMPLE).open("wb") as f:
    np.savez(f, **arrays)
  (directory / MANIFEST).write_text(json.dumps(manifest, indent=2))
  (directory / RUNNER).write_text(epath.Path(standalone.__file__).read_text())
  return manifest


FORMATS = ("stablehlo", "onnx", "litert", "weights")
QUANTIZE = ("none", "int8")


def format_directory(output, fmt: str, formats) -> epath.Path:
  """Where format `fmt` is written: `output` itself when it is the only format, else
  `output/<fmt>`."""
  return epath.Path(output) if len(formats) == 1 else epath.Path(output) / fmt


def export_run(workdir, output, *, theta=(), batch_size: int = 0, num_examples: int = 8,
               platforms=(), input_shape=(), input_dtype: str = "uint8", n_q: int = 0,
               formats=("stablehlo",), quantize=("none",), num_calibration: int = 256) -> dict:
  """Exports the stages of the run in `workdir` to `output`; returns the manifest.

  Args:
    workdir: a trained GC run (image or keyword) or DSL codec run.
    output: the export directory (created).
    theta: per-gate thresholds for the manifest (one value: every gate); empty: the run's own
      (`LoadedRun.thetas`).
    batch_size: 0: symbolic batch axis; else a fixed batch size.
    num_examples: test examples stored in `example.npz`.
    platforms: target platforms (empty: this machine's).
    input_shape, input_dtype: the per-sample input when the dataset is not available here (the
      example inputs are then zeros).
    n_q: codec runs: quantizers used (0: all).
    formats: subset of `FORMATS`; several: each in `output/<format>/` (`format_directory`).
      "weights" (on its own) writes the parameters as a small loadable run directory instead
      (`gcnet.runtime.weights`).
    quantize: ("none",), ("int8",) or both: the precisions of the ONNX stages ("none" is
      float32); StableHLO is always float32.
    num_calibration: training examples that calibrate the int8 ranges.
  Returns:
    the manifest of the first format (`{format: manifest}` under "formats" when several).
  """
  formats, quantize = list(formats), list(quantize)
  for name, values, allowed in (("format", formats, FORMATS), ("quantize", quantize, QUANTIZE)):
    bad = [v for v in values if v not in allowed]
    if bad or not values:
      raise ValueError(f"--{name}={','.join(values)}: choose from {','.join(allowed)}.")
  if "litert" in formats:
    raise ValueError(LITERT_UNAVAILABLE)
  if "weights" in formats:
    if formats != ["weights"]:
      raise ValueError("--format=weights writes a loadable run directory, not programs: export it "
                       "on its own.")
    from gcnet.runtime import weights  # pylint: disable=g-import-not-at-top
    return {"format": "weights", **weights.save_weights(workdir, output), "stages": []}
  if "onnx" in formats:
    from gcnet.runtime import onnx_export  # pylint: disable=g-import-not-at-top  (optional extra)
    onnx_export.optional.require("jax2onnx")
    onnx_export.optional.require("onnxruntime")
  if "int8" in quantize and "onnx" not in formats:
    raise ValueError("--quantize=int8 applies to the ONNX stages: add --format=onnx.")
  run = load_run(workdir)
  if run.dataset is not None:
    examples = run.split_inputs("test", max(num_examples, 1))["inputs"]
  elif input_shape:
    examples = np.zeros((max(num_examples, 1), *map(int, input_shape)), np.dtype(input_dtype))
  else:
    raise ValueError(f"The dataset of {workdir} is not available here: pass --input_shape.")
  if batch_size:
    reps = -(-batch_size // len(examples))
    examples = np.concatenate([examples] * reps)[:batch_size]
  common = dict(polymorphic=not batch_size, platforms=list(platforms) or None,
                workdir=run.workdir, experiment=run.config.experiment, step=run.step,
                model=run.config.model.to_dict())
  precisions = ["float32" if q == "none" else q for q in quantize]
  calibration = None
  if "int8" in precisions:
    if run.dataset is None:
      raise ValueError(f"int8 calibration needs the training data of {workdir} on this machine.")
    calibration = run.split_inputs("train", num_calibration)["inputs"]
  def stages_of(model):
    if run.kind == "codec":
      return codec_export_stages(model, run.variables, examples.shape[1], n_q or None)
    return gc_export_stages(StagedModel(model, run.params),
                            TensorSpec(examples.shape[1:], examples.dtype))

  if run.kind == "codec":
    fields = dict(kind="dsl_codec", n_q=n_q or None)
  else:
    thetas, source = run.thetas(list(theta) if theta else None)
    fields = dict(kind="gc", thetas=thetas, theta_source=source, class_names=run.class_names,
                  background_class=run.model.num_classes - 1)
  manifests = {}
  for fmt in formats:
    directory = format_directory(output, fmt, formats)
    stages = stages_of(run.model if fmt == "stablehlo" else onnx_export.onnx_friendly(run.model))
    if fmt == "stablehlo":
      manifests[fmt] = export_to_directory(stages, directory, examples,
                                           chain=fields["kind"] == "gc", **fields, **common)
    else:
      onnx_fields = {k: v for k, v in {**fields, **common}.items()
                     if k not in ("polymorphic", "platforms")}
      if batch_size:
        raise ValueError("The ONNX export has a symbolic batch axis: drop --batch_size.")
      manifests[fmt] = onnx_export.export_onnx(
          stages, directory, examples, calibration=calibration, precisions=precisions,
          num_calibration=len(calibration) if calibration is not None else 0, **onnx_fields)
  first = manifests[formats[0]]
  return {**first, "formats": manifests} if len(formats) > 1 else first


LITERT_UNAVAILABLE = (
    "--format=litert is not available: its converter (jax2tf + TensorFlow's TFLiteConverter) is "
    "not a gcnet dependency and fails on a symbolic batch ('vhlo.dynamic_gather_v1' op is not "
    "part of the vhlo support yet); see docs/deploy.md, 'LiteRT (TFLite)'. Use --format=onnx.")
