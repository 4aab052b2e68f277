"""Runs ONNX stages exported by `python -m gcnet.cli.export --format=onnx` with onnxruntime alone.

No jax, no flax, no gcnet: NumPy and onnxruntime only. The exporter copies this file into the
export directory as `run_onnx.py`:

    python DIR/run_onnx.py DIR --check [--precision=int8]        # rerun example.npz
    python DIR/run_onnx.py DIR --inputs=x.npy --output=out.npz [--precision=int8] [--theta=0.3]

From Python (with DIR on sys.path):

    import run_onnx
    runner = run_onnx.Runner(DIR, precision="int8")           # one onnxruntime session per stage
    out = runner.run_gc(images)       # out["predictions"], out["stopped_at"], out["counts"]
    pred, stopped_at = runner.run_one(image)                   # batch 1, the always-on case
    out = runner.run_codec(wave)      # "dsl_codec": out["recon"], out["heavy"], out["counts"]

Gating: stage `i` runs on the samples every earlier gate passed (`gate_prob >= theta_i`, the
manifest's thresholds); the back runs only on the samples that passed every gate, and a stage no
sample reaches is not called. `counts` says how many samples each stage ran on.
"""

import argparse
import json
import os
import sys

import numpy as np

FORMAT = "gcnet-onnx/1"
MANIFEST = "manifest.json"


def _ort():
  try:
    import onnxruntime  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError(f"onnxruntime is not installed ({e}): pip install onnxruntime "
                      "(in gcnet: pip install -e \".[onnx]\").") from e
  return onnxruntime


def session(model, threads: int = 1):
  """An onnxruntime CPU session of a model file path or serialized bytes (`threads` intra-op)."""
  ort = _ort()
  options = ort.SessionOptions()
  options.intra_op_num_threads = int(threads)
  options.inter_op_num_threads = 1
  options.log_severity_level = 3
  return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def call(sess, x, batch: int = 0) -> list:
  """Outputs of `sess` on `x [n, ...]` (its one input), in chunks of `batch` rows (0: one call)."""
  x = np.asarray(x)
  name = sess.get_inputs()[0].name
  if not batch or x.shape[0] <= batch:
    return sess.run(None, {name: x})
  parts = [sess.run(None, {name: x[i:i + batch]}) for i in range(0, x.shape[0], batch)]
  return [np.concatenate(p) for p in zip(*parts)]


class Runner:
  """The stages of an ONNX export, one session each, with the manifest's gating.

  Attributes:
    manifest: manifest.json.
    precision: "float32" or "int8".
    sessions: `{stage name: InferenceSession}`.
    names: stage names in execution order.
    thetas: float32 `[G]` thresholds (GC exports).
  """

  def __init__(self, directory: str, precision: str = "float32", threads: int = 1,
               thetas=None):
    with open(os.path.join(directory, MANIFEST)) as f:
      self.manifest = json.load(f)
    if self.manifest.get("format") != FORMAT:
      raise ValueError(f"{directory} holds format {self.manifest.get('format')!r}, expected "
                       f"{FORMAT!r} (export with --format=onnx).")
    if precision not in self.manifest["precisions"]:
      raise ValueError(f"{directory} has no {precision!r} stages (it has "
                       f"{self.manifest['precisions']}): export with --quantize=int8.")
    self.precision = precision
    self.names = [s["name"] for s in self.manifest["stages"]]
    self.sessions = {s["name"]: session(os.path.join(directory, s["files"][precision]), threads)
                     for s in self.manifest["stages"]}
    self._inputs = {n: s.get_inputs()[0].name for n, s in self.sessions.items()}
    thetas = self.manifest.get("thetas") if thetas is None else thetas
    self.thetas = None if thetas is None else np.asarray(thetas, np.float32).reshape(-1)

  def stage(self, name: str, x) -> list:
    """The outputs of stage `name` on `x [n, ...]`."""
    return self.sessions[name].run(None, {self._inputs[name]: x})

  def run_gc(self, inputs) -> dict:
    """Gated inference on `inputs [B, ...]`.

    Returns:
      dict: "predictions" int32 `[B]` (the background class where stopped), "stopped_at" int32
      `[B]` (the stopping gate; `G` for samples that reached the back), "logits" float32
      `[B, K+1]` (NaN rows where stopped), "gate_probs" float32 `[B, G]` (NaN where not reached),
      "counts" `{stage name: samples it ran on}`.
    """
    num_gates = len(self.names) - 1
    x = np.asarray(inputs)
    batch = x.shape[0]
    alive = np.arange(batch)
    probs = np.full((batch, num_gates), np.nan, np.float32)
    stopped_at = np.full((batch,), num_gates, np.int32)
    counts = {n: 0 for n in self.names}
    for gate in range(num_gates):
      if not alive.size:
        break
      counts[self.names[gate]] = int(alive.size)
      z, prob = self.stage(self.names[gate], x)
      prob = prob.reshape(-1)
      probs[alive, gate] = prob
      keep = prob >= self.thetas[gate]
      stopped_at[alive[~keep]] = gate
      alive, x = alive[keep], z[keep]
    num_classes = int(self.manifest["stages"][-1]["outputs"][0]["shape"][-1])
    logits = np.full((batch, num_classes), np.nan, np.float32)
    if alive.size:
      counts[self.names[-1]] = int(alive.size)
      logits[alive] = self.stage(self.names[-1], x)[0]
    predictions = np.full((batch,), self.manifest["background_class"], np.int32)
    predictions[alive] = np.argmax(logits[alive], axis=-1)
    return {"predictions": predictions, "stopped_at": stopped_at, "logits": logits,
            "gate_probs": probs, "counts": counts}

  def run_one(self, x) -> tuple[int, int]:
    """One sample `x [...]` (no batch axis): `(prediction, stopped_at)`, minimal host work."""
    h = np.asarray(x)[None]
    for gate in range(len(self.names) - 1):
      h, prob = self.stage(self.names[gate], h)
      if prob.reshape(-1)[0] < self.thetas[gate]:
        return int(self.manifest["background_class"]), gate
    return int(np.argmax(self.stage(self.names[-1], h)[0][0])), len(self.names) - 1

  def run_codec(self, wave) -> dict:
    """Hard-routed decoding of a "dsl_codec" export: each segment only by its routed decoder.

    Args:
      wave: float32 `[B, T]`, `T` the exported length.
    Returns:
      dict: "recon" float32 `[B, T]`, "heavy" bool `[B, S]`, "counts" `{stage: rows}`.
    """
    wave = np.asarray(wave, np.float32)
    windows, heavy = self.stage("encoder_switch", wave)
    heavy = np.asarray(heavy).reshape(-1).astype(bool)
    counts = {"encoder_switch": int(wave.shape[0]), "heavy_decoder": 0, "light_decoder": 0}
    out = None
    for name, rows in (("heavy_decoder", np.flatnonzero(heavy)),
                       ("light_decoder", np.flatnonzero(~heavy))):
      if rows.size:
        counts[name] = int(rows.size)
        y = self.stage(name, windows[rows])[0]
        if out is None:
          out = np.zeros((windows.shape[0],) + y.shape[1:], y.dtype)
        out[rows] = y
    batch = wave.shape[0]
    return {"recon": out.reshape(batch, -1)[:, :wave.shape[1]], "heavy": heavy.reshape(batch, -1),
            "counts": counts}

  def check(self, directory: str) -> dict:
    """Reruns every stage on its `example.npz` input: `{key: max abs difference}`."""
    example = np.load(os.path.join(directory, self.manifest["example"]))
    diffs = {}
    for entry in self.manifest["stages"]:
      prefix = f"{self.precision}/{entry['name']}"
      outs = self.stage(entry["name"], example[f"{prefix}/x"])
      for spec, value in zip(entry["outputs"], outs):
        expected = example[f"{prefix}/{spec['name']}"]
        diffs[f"{prefix}/{spec['name']}"] = (
            float(np.max(np.abs(value.astype(np.float64) - expected), initial=0.0))
            if value.shape == expected.shape else float("inf"))
    return diffs


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("directory")
  parser.add_argument("--precision", default="float32", help="float32 or int8")
  parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
  parser.add_argument("--theta", type=float, nargs="*", help="override the manifest's thresholds")
  parser.add_argument("--check", action="store_true", help="rerun example.npz and compare")
  parser.add_argument("--inputs", help=".npy inputs: gated inference ('gc') or decoding (codec)")
  parser.add_argument("--output", help=".npz to write the results to")
  args = parser.parse_args(argv)
  runner = Runner(args.directory, args.precision, args.threads, args.theta or None)
  status = 0
  if args.check:
    diffs = runner.check(args.directory)
    for key, diff in diffs.items():
      print(f"{key}: max abs diff {diff:g}")
    status = int(any(d > 1e-5 for d in diffs.values()))
    print("match" if not status else "MISMATCH", f"(onnxruntime {_ort().__version__})")
  if args.inputs:
    x = np.load(args.inputs)
    result = (runner.run_codec(x) if runner.manifest["kind"] == "dsl_codec"
              else runner.run_gc(x))
    counts = result.pop("counts")
    if args.output:
      np.savez(args.output, **result)
    print("samples per stage:", counts)
    if "predictions" in result:
      print("predictions:", result["predictions"].tolist())
  return status


if __name__ == "__main__":
  sys.exit(main())
