"""Encode and decode a WAV file with a trained codec run, with hard routing.

  python -m gcnet.codec --workdir=RUN --input=IN.wav --output=OUT.wav [--report=R.json] [--n_q=4]

The input (any sample rate, mono or multichannel, averaged to mono) is resampled to the codec's rate,
coded (DSL codecs run each segment through only its chosen decoder, `StagedCodec`), resampled back
to the input's rate and written as 16-bit PCM. The report gives each segment's route, the light
fraction, the bitrate, and the SI-SDR and multi-scale mel distance of the output against the input.
"""

import json

import jax
import numpy as np

from gcnet.audio import quality
from gcnet.audio import audio_io
from gcnet.eval import codec_report
from gcnet.models.codec import StagedCodec


def code_wave(model, variables, wave: np.ndarray, n_q: int | None = None
              ) -> tuple[np.ndarray, np.ndarray | None]:
  """Codes `wave [T]` at the model's rate; returns `(recon [T], heavy [S] bool or None)`."""
  wave = np.asarray(wave, np.float32)[None]
  if model.pathway == "dsl":
    recon, counts = StagedCodec(model, variables)(wave, n_q)
    return recon[0], np.asarray(counts["heavy"][0], bool)
  recon = jax.jit(lambda v, x: model.apply(v, x, n_q=n_q)["recon"])(variables, wave)
  return np.asarray(recon)[0], None


def code_file(workdir: str, input_path: str, output_path: str, report_path: str = "",
              n_q: int | None = None) -> dict:
  """Codes `input_path` into `output_path` with the run in `workdir`; returns the report dict."""
  import soundfile  # pylint: disable=g-import-not-at-top  (optional dependency)
  _, model, variables, step = codec_report.load_run(workdir)
  wave, rate = audio_io.read_audio(input_path)
  coded, heavy = code_wave(model, variables, audio_io.resample(wave, rate, model.sample_rate), n_q)
  out = audio_io.resample(coded, model.sample_rate, rate)[:wave.shape[0]]
  out = np.pad(out, (0, wave.shape[0] - out.shape[0]))
  soundfile.write(output_path, audio_io.to_int16(out), rate, subtype="PCM_16")
  written = audio_io.from_int16(audio_io.to_int16(out))
  segment_s = model.segment_samples / model.sample_rate
  report = {
      "workdir": workdir, "step": step, "input": input_path, "output": output_path,
      "input_sample_rate": rate, "codec_sample_rate": model.sample_rate,
      "seconds": wave.shape[0] / rate, "pathway": model.pathway,
      "bitrate_bps": codec_report.bitrate(model, n_q),
      "si_sdr": float(quality.si_sdr(wave, written)),
      "mel_distance": float(quality.mel_distance(wave, written, rate)[0]),
      "segment_seconds": segment_s,
  }
  if heavy is not None:
    report["light_fraction"] = float(1.0 - heavy.mean())
    report["routes"] = ["heavy" if h else "light" for h in heavy]
  else:
    report["light_fraction"] = 1.0 if model.pathway == "light" else 0.0
  if report_path:
    with open(report_path, "w") as f:
      json.dump(report, f, indent=2)
  return report


def main(argv):
  from absl import flags  # pylint: disable=g-import-not-at-top
  from absl import logging  # pylint: disable=g-import-not-at-top
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  if len(argv) > 1:
    raise ValueError(f"Unexpected arguments: {argv[1:]}")
  f = flags.FLAGS
  r = code_file(f.workdir, f.input, f.output, f.report, f.n_q or None)
  routes = "".join("H" if x == "heavy" else "." for x in r.get("routes", []))
  print(f"{r['input']} ({r['seconds']:.2f} s at {r['input_sample_rate']} Hz) -> {r['output']}: "
        f"light fraction {r['light_fraction']:.3f}, SI-SDR {r['si_sdr']:.2f} dB, mel distance "
        f"{r['mel_distance']:.3f}, {r['bitrate_bps'] / 1000:.1f} kbps")
  if routes:
    print(f"routes ({r['segment_seconds'] * 1000:.0f} ms segments, H heavy, . light): {routes}")


if __name__ == "__main__":
  from absl import app, flags  # pylint: disable=g-import-not-at-top,g-multiple-import
  flags.DEFINE_string("workdir", None, "A codec run's workdir (config.json and checkpoints).")
  flags.DEFINE_string("input", None, "Input audio file (WAV, FLAC, Ogg; any sample rate).")
  flags.DEFINE_string("output", None, "Output WAV (16-bit PCM at the input's sample rate).")
  flags.DEFINE_string("report", "", "Optional JSON report path.")
  flags.DEFINE_integer("n_q", 0, "Quantizers to use (the bitrate); 0: all.")
  flags.mark_flags_as_required(["workdir", "input", "output"])
  app.run(main)
