"""Encode and decode an audio file with a trained codec run, with hard routing.

  python -m gcnet.cli.codec --workdir=RUN --input=IN.wav --output=OUT.wav [--report=R.json] [--n_q=4]

The input (any sample rate, mono or multichannel, averaged to mono) is resampled to the codec's rate,
coded (DSL codecs run each segment through only its chosen decoder), resampled back to the input's
rate and written as 16-bit PCM (see gcnet/runtime/codec_files.py).
"""

from absl import flags

from gcnet.cli import common


def define_flags():
  flags.DEFINE_string("workdir", None, "A codec run's directory (the --workdir it was trained in).")
  flags.DEFINE_string("input", None, "Input audio file (WAV, FLAC, Ogg; any sample rate).")
  flags.DEFINE_string("output", None, "Output WAV (16-bit PCM at the input's sample rate).")
  flags.DEFINE_string("report", "", "Optional JSON report path.")
  flags.DEFINE_integer("n_q", 0, "Quantizers to use (the bitrate); 0: all.")
  flags.mark_flags_as_required(["workdir", "input", "output"])


def main(argv):
  del argv
  from gcnet.runtime import codec_files  # pylint: disable=g-import-not-at-top  (JAX late)
  f = flags.FLAGS
  r = codec_files.code_file(f.workdir, f.input, f.output, f.report, f.n_q or None)
  routes = "".join("H" if x == "heavy" else "." for x in r.get("routes", []))
  print(f"{r['input']} ({r['seconds']:.2f} s at {r['input_sample_rate']} Hz) -> {r['output']}: "
        f"light fraction {r['light_fraction']:.3f}, SI-SDR {r['si_sdr']:.2f} dB, mel distance "
        f"{r['mel_distance']:.3f}, {r['bitrate_bps'] / 1000:.1f} kbps")
  for part in ("speech", "quiet"):
    q = r[part]
    print(f"{part} ({q['seconds']:.2f} s, level threshold {r['threshold_db']:.0f} dBFS): PESQ "
          f"{q['pesq']:.2f}, STOI {q['stoi']:.3f}, mel distance {q['mel_distance']:.3f}, SI-SDR "
          f"{q['si_sdr']:.2f} dB")
  if routes:
    print(f"routes ({r['segment_seconds'] * 1000:.0f} ms segments, H heavy, . light): {routes}")
  return 0


if __name__ == "__main__":
  common.run_tool(define_flags, main)
