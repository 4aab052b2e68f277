"""Keyword spotting with a trained run on audio files (any sample rate, any length).

  python -m gcnet.cli.predict --workdir=RUN --inputs=FILE_OR_DIR --output=OUT.jsonl
  python -m gcnet.cli.predict --workdir=RUN --inputs=LONG.wav --output=OUT.jsonl --stream \
      --hop_seconds=0.25 [--truth=LONG.json]

One JSON line per input file. Per-file mode: `path, gate, stopped, label, label_name, score`
(plus `duration_s`, `window_start_s`; see gcnet/runtime/keywords/predict_files.py for how a window
is chosen). `--stream`: `path, num_windows, windows_stopped, stopped_fraction, back_windows,
flops_per_window, compute_saving, detections [{start_s, end_s, detected_s, peak_s, label,
label_name, score, gate, windows}]` and, with `--truth` (of make_stream or make_background),
`truth_eval`: keyword recall, detection latency, false alarms (per hour, and per source of a
make_background recording). The summary on stderr repeats these always-on metrics per file. The
gate threshold is the run's calibrated theta from report.json, else config.eval.theta; `--theta`
overrides it.
"""

import json
import sys

from absl import flags

from gcnet.cli import common


def define_flags():
  flags.DEFINE_string("workdir", None, "A keyword run's directory (the --workdir it was trained in).")
  flags.DEFINE_string("inputs", None, "An audio file or a directory of them.")
  flags.DEFINE_string("output", None, "JSON lines to write; '-' for stdout.")
  flags.DEFINE_float("theta", None, "Threshold of every gate (default: calibrated, else config).")
  flags.DEFINE_bool("stream", False, "Slide a window over each recording (always-on mode).")
  flags.DEFINE_float("hop_seconds", None, "Hop between windows: stream mode (default 0.25) or the "
                     "candidate windows of long clips (default 0.1).")
  flags.DEFINE_enum("long_clip", "max_gate", ["max_gate", "centre"], "Window of a clip longer than "
                    "the model's window: the one the gate likes best, or the centred crop.")
  flags.DEFINE_string("truth", None, "Stream mode: ground-truth JSON of make_stream to score.")
  flags.DEFINE_integer("batch_size", 64, "Windows per stage call.")
  flags.DEFINE_integer("min_windows", 1, "Stream mode: consecutive windows a detection needs.")
  flags.DEFINE_float("min_score", 0.0, "Stream mode: softmax score a detection's best window needs.")
  flags.mark_flags_as_required(["workdir", "inputs", "output"])


def main(argv):
  del argv
  from gcnet.runtime.keywords import predict  # pylint: disable=g-import-not-at-top  (JAX late)
  f = flags.FLAGS
  summary = predict.predict(workdir=f.workdir, inputs=f.inputs, output=f.output, theta=f.theta,
                            stream=f.stream, hop_seconds=f.hop_seconds, long_clip=f.long_clip,
                            truth=f.truth, batch_size=f.batch_size,
                            min_windows=f.min_windows, min_score=f.min_score)
  print(json.dumps(summary), file=sys.stderr)
  return 0


if __name__ == "__main__":
  common.run_tool(define_flags, main)
