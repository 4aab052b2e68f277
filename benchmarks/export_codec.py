"""A DSL codec's ONNX export decodes a WAV with hard routing like the JAX codec: light fraction and
PESQ of both, and the time per chunk.

  python -m gcnet.cli.export --workdir=CODEC_RUN --output=DIR --format=onnx
  python benchmarks/export_codec.py --workdir=CODEC_RUN --export_dir=DIR --wav=a.wav [--wav=b.wav]

The WAV is resampled to the codec's rate and cut into chunks of the exported length `T` (the last
one zero-padded); JAX (`gcnet.models.codec.StagedCodec`) and the ONNX runner (`run_onnx.Runner`,
onnxruntime only) decode the same chunks, each segment by the decoder its switch chose. Reported
per file: light fraction (JAX, ONNX, equal?), PESQ of each against the input, max |ONNX - JAX|.
Writes JSON to --output (default benchmarks/results/export_codec_<experiment>.json).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

flags.DEFINE_string("workdir", None, "The trained DSL codec run.")
flags.DEFINE_string("export_dir", None, "Its ONNX export (--format=onnx).")
flags.DEFINE_multi_string("wav", [], "WAV files to decode.")
flags.DEFINE_string("output", "", "JSON path.")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  import numpy as np  # pylint: disable=g-import-not-at-top

  from gcnet.audio import audio_io, quality  # pylint: disable=g-import-not-at-top
  from gcnet.models.codec import StagedCodec  # pylint: disable=g-import-not-at-top
  from gcnet.runtime import load_run, onnx_runner  # pylint: disable=g-import-not-at-top

  run = load_run(FLAGS.workdir, with_dataset=False, kinds=("codec",), tool="export_codec")
  model, variables = run.model, run.variables
  runner = onnx_runner.Runner(FLAGS.export_dir)
  length = int(runner.manifest["stages"][0]["inputs"][0]["shape"][1])
  staged = StagedCodec(model, variables)
  results = {"workdir": run.workdir, "step": run.step, "export_dir": FLAGS.export_dir,
             "chunk_samples": length, "load_average": os.getloadavg(), "files": []}
  for path in FLAGS.wav:
    wave, rate = audio_io.read_audio(path)
    wave = audio_io.resample(wave, rate, model.sample_rate).astype(np.float32)
    n = -(-len(wave) // length)
    chunks = np.zeros((n * length,), np.float32)
    chunks[:len(wave)] = wave
    chunks = chunks.reshape(n, length)
    start = time.perf_counter()
    recon_jax, counts = staged(chunks)
    jax_s = time.perf_counter() - start
    start = time.perf_counter()
    out = runner.run_codec(chunks)
    onnx_s = time.perf_counter() - start
    heavy_jax = np.asarray(counts["heavy"], bool).reshape(-1)
    heavy_onnx = out["heavy"].reshape(-1)
    a = np.asarray(recon_jax).reshape(-1)[:len(wave)]
    b = out["recon"].reshape(-1)[:len(wave)]
    pesq = lambda y: float(quality.pesq(wave[None], y[None], model.sample_rate)[0])
    entry = {"wav": path, "seconds": len(wave) / model.sample_rate, "chunks": n,
             "segments": int(heavy_jax.size),
             "light_fraction_jax": float(1 - heavy_jax.mean()),
             "light_fraction_onnx": float(1 - heavy_onnx.mean()),
             "routes_equal": bool(np.array_equal(heavy_jax, heavy_onnx)),
             "pesq_jax": pesq(a), "pesq_onnx": pesq(b),
             "max_abs_diff": float(np.max(np.abs(a - b))),
             "onnx_counts": out["counts"], "jax_seconds": jax_s, "onnx_seconds": onnx_s}
    entry["pesq_diff"] = entry["pesq_onnx"] - entry["pesq_jax"]
    results["files"].append(entry)
    print(f"{os.path.basename(path)}: {entry['segments']} segments, light fraction JAX "
          f"{entry['light_fraction_jax']:.4f} ONNX {entry['light_fraction_onnx']:.4f} (routes equal: "
          f"{entry['routes_equal']}), PESQ JAX {entry['pesq_jax']:.3f} ONNX {entry['pesq_onnx']:.3f}"
          f", max |diff| {entry['max_abs_diff']:.2e}, counts {entry['onnx_counts']}")
  output = FLAGS.output or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                        f"export_codec_{run.config.experiment}.json")
  with open(output, "w") as f:
    json.dump(results, f, indent=2)
  print(f"wrote {output}")


if __name__ == "__main__":
  flags.mark_flags_as_required(["workdir", "export_dir"])
  app.run(main)
