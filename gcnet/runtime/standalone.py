"""Runs stages exported by `python -m gcnet.cli.export` with jax and NumPy only (no gcnet, no model).

The exporter copies this file into the export directory as `run_stages.py`:

    python DIR/run_stages.py DIR --check            # reruns example.npz, exit 1 on any mismatch
    python DIR/run_stages.py DIR --inputs=x.npy --output=out.npz   # gated inference / decoding

From Python (after putting DIR on sys.path, or copying the file):

    manifest, stages = load(DIR)
    result = run_gc(manifest, stages, images)   # predictions, stopped_at, logits of the passed
    result = run_codec(manifest, stages, wave)  # a "dsl_codec" export: recon, heavy routes

This file must not import gcnet: it is the proof that the exported programs stand alone.
"""

import argparse
import json
import os
import sys

import jax
import numpy as np
from jax import export

FORMAT = "gcnet-stages/1"
MANIFEST = "manifest.json"
EXAMPLE = "example.npz"


def load(directory: str) -> tuple[dict, dict]:
  """`(manifest, {stage name: jax.export.Exported})` of an export directory."""
  with open(os.path.join(directory, MANIFEST)) as f:
    manifest = json.load(f)
  if manifest.get("format") != FORMAT:
    raise ValueError(f"{directory} holds format {manifest.get('format')!r}, expected {FORMAT!r}.")
  stages = {}
  for entry in manifest["stages"]:
    with open(os.path.join(directory, entry["file"]), "rb") as f:
      stages[entry["name"]] = export.deserialize(bytearray(f.read()))
  return manifest, stages


def _outputs(exported, x, batch_dim="b") -> list:
  """Calls `exported` on `x [n, ...]`; a fixed `batch_dim` runs padded chunks of that size."""
  x = np.asarray(x)
  if isinstance(batch_dim, str):
    out = exported.call(x)
    return [np.asarray(o) for o in (out if isinstance(out, (tuple, list)) else [out])]
  parts = []
  for start in range(0, x.shape[0], batch_dim):
    chunk = x[start:start + batch_dim]
    pad = np.zeros((batch_dim - chunk.shape[0],) + x.shape[1:], x.dtype)
    outs = _outputs(exported, np.concatenate([chunk, pad]))
    parts.append([o[:chunk.shape[0]] for o in outs])
  return [np.concatenate(p) for p in zip(*parts)]


def run_gc(manifest: dict, stages: dict, inputs) -> dict:
  """Gated inference: each stage runs only on the samples every earlier gate passed.

  Args:
    manifest, stages: from `load` (a "gc" export: stages `[(z, gate_prob)] * G + [logits]`).
    inputs: `[B, ...]` inputs of the first stage.
  Returns:
    dict: "predictions" int32 `[B]` (background class where stopped), "stopped_at" int32 `[B]`
    (the stopping gate, `G` for samples that reached the back), "logits" float32 `[B, K+1]` (NaN
    rows for stopped samples), "gate_probs" float32 `[B, G]` (NaN where not reached).
  """
  names = [s["name"] for s in manifest["stages"]]
  thetas = np.asarray(manifest["thetas"], np.float32)
  num_gates = len(names) - 1
  x = np.asarray(inputs)
  batch = x.shape[0]
  alive = np.arange(batch)
  probs = np.full((batch, num_gates), np.nan, np.float32)
  stopped_at = np.full((batch,), num_gates, np.int32)
  for gate in range(num_gates):
    z, prob = _outputs(stages[names[gate]], x, manifest["batch_dim"])
    probs[alive, gate] = prob
    keep = prob >= thetas[gate]
    stopped_at[alive[~keep]] = gate
    alive, x = alive[keep], z[keep]
  num_classes = int(manifest["stages"][-1]["outputs"][0]["shape"][-1])
  logits = np.full((batch, num_classes), np.nan, np.float32)
  if alive.size:
    logits[alive] = _outputs(stages[names[-1]], x, manifest["batch_dim"])[0]
  predictions = np.full((batch,), manifest["background_class"], np.int32)
  predictions[alive] = np.argmax(logits[alive], axis=-1)
  return {"predictions": predictions, "stopped_at": stopped_at, "logits": logits,
          "gate_probs": probs}


def run_codec(manifest: dict, stages: dict, wave) -> dict:
  """Hard-routed decoding ("dsl_codec" export): each segment runs only the decoder it is routed to.

  Args:
    manifest, stages: from `load`.
    wave: float32 `[B, T]` with `T` the exported length.
  Returns:
    dict: "recon" float32 `[B, T]`, "heavy" bool `[B, S]` (the route of each segment).
  """
  wave = np.asarray(wave, np.float32)
  windows, heavy = _outputs(stages["encoder_switch"], wave, manifest["batch_dim"])
  heavy = heavy.astype(bool)
  out = None
  for name, rows in (("heavy_decoder", np.flatnonzero(heavy)),
                     ("light_decoder", np.flatnonzero(~heavy))):
    if rows.size:
      y = _outputs(stages[name], windows[rows], manifest["batch_dim"])[0]
      if out is None:
        out = np.zeros((windows.shape[0],) + y.shape[1:], y.dtype)
      out[rows] = y
  batch = wave.shape[0]
  return {"recon": out.reshape(batch, -1)[:, :wave.shape[1]], "heavy": heavy.reshape(batch, -1)}


def check(directory: str) -> dict:
  """Reruns every stage on its input in `example.npz`; returns `{key: max abs difference}`."""
  manifest, stages = load(directory)
  example = np.load(os.path.join(directory, EXAMPLE))
  diffs = {}
  for entry in manifest["stages"]:
    outs = _outputs(stages[entry["name"]], example[f"{entry['name']}/x"], manifest["batch_dim"])
    for spec, value in zip(entry["outputs"], outs):
      key = f"{entry['name']}/{spec['name']}"
      expected = example[key]
      same_shape = value.shape == expected.shape
      diffs[key] = (float(np.max(np.abs(value.astype(np.float64) - expected), initial=0.0))
                    if same_shape else float("inf"))
  return diffs


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("directory")
  parser.add_argument("--check", action="store_true", help="rerun example.npz and compare")
  parser.add_argument("--inputs", help=".npy inputs: gated inference ('gc') or decoding (codec)")
  parser.add_argument("--output", help=".npz to write the inference results to")
  args = parser.parse_args(argv)
  status = 0
  if args.check:
    diffs = check(args.directory)
    for key, diff in diffs.items():
      print(f"{key}: max abs diff {diff:g}")
    status = int(any(d != 0.0 for d in diffs.values()))
    print("identical" if not status else "MISMATCH", f"(jax {jax.__version__})")
  if args.inputs:
    manifest, stages = load(args.directory)
    run = run_codec if manifest["kind"] == "dsl_codec" else run_gc
    result = run(manifest, stages, np.load(args.inputs))
    if args.output:
      np.savez(args.output, **result)
    print({k: v.shape for k, v in result.items()})
    if "predictions" in result:
      print("predictions:", result["predictions"].tolist())
  return status


if __name__ == "__main__":
  sys.exit(main())
