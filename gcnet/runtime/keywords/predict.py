"""Keyword spotting on audio files, per file or streaming: what `gcnet.cli.predict` runs."""

import contextlib
import json
import sys

from gcnet.audio import audio_io
from gcnet.runtime.keywords import predict_files
from gcnet.runtime.keywords import stream as stream_lib
from gcnet.runtime.keywords import stream_truth
from gcnet.runtime.keywords.spotter import load_spotter

DEFAULT_HOP = {"stream": 0.25, "file": 0.1}


@contextlib.contextmanager
def _open_output(output: str):
  if output == "-":
    yield sys.stdout
  else:
    with open(output, "w") as f:
      yield f


def predict(*, workdir: str, inputs: str, output: str, theta: float | None = None,
            stream: bool = False, hop_seconds: float | None = None, long_clip: str = "max_gate",
            truth: str | None = None, batch_size: int = 64, min_windows: int = 1,
            min_score: float = 0.0) -> dict:
  """Runs the model of `workdir` on `inputs` and writes JSON lines to `output`.

  Returns:
    a summary `{files, theta, theta_source, step, windows_per_stage}`: `windows_per_stage [G+1]`
    counts the windows each stage ran on (the last is the back).
  Raises:
    FileNotFoundError: no run, no inputs.
    gcnet.runtime.load.WrongRunKind: `workdir` is not a keyword run.
    gcnet.audio.audio_io.AudioReadError: an unreadable audio file (named in the message); nothing
      is written for it and the run stops there, so a bad file is never silently skipped.
  """
  spotter = load_spotter(workdir, theta, batch_size)
  paths = predict_files.list_inputs(inputs)
  truth_data = None
  if truth:
    if not stream:
      raise ValueError("--truth scores stream detections: use it with --stream.")
    with open(truth) as f:
      truth_data = json.load(f)
  hop = hop_seconds or DEFAULT_HOP["stream" if stream else "file"]
  streams = []
  with _open_output(output) as out:
    for path in paths:
      if stream:
        wave, _ = audio_io.read_audio(path, spotter.sample_rate)
        conversion = input_conversion(path, spotter.sample_rate)
        print(f"{path}: {conversion['note']}", file=sys.stderr)
        record = {"path": path, "input": conversion,
                  **stream_lib.stream_file(spotter, wave, hop, min_windows, min_score)}
        if truth_data is not None:
          record["truth_eval"] = stream_truth.score_detections(record["detections"], truth_data)
        streams.append(stream_summary(record))
      else:
        record = predict_files.predict_file(spotter, path, long_clip, hop)
      out.write(json.dumps(record) + "\n")
      out.flush()
  summary = {"files": len(paths), "theta": [float(t) for t in spotter.thetas],
             "theta_source": spotter.theta_source, "step": spotter.run.step,
             "windows_per_stage": list(spotter.runner.samples)}
  if stream:
    summary["streams"] = streams
  return summary


def input_conversion(path: str, rate: int) -> dict:
  """How a file is turned into the model's input: its rate and channels, whether it is mixed down
  and resampled, and a sentence saying so."""
  info = audio_io.describe(path)
  mixed, resampled = info["channels"] > 1, info["sample_rate"] != rate
  steps = ([f"mixed down from {info['channels']} channels to mono"] if mixed else []) + (
      [f"resampled from {info['sample_rate']} Hz to {rate} Hz"] if resampled else [])
  return {**info, "mixed_down": mixed, "resampled": resampled, "model_rate": rate,
          "note": "; ".join(steps) if steps else f"mono at {rate} Hz, used as is"}


_SUMMARY_KEYS = ("keywords", "hits", "recall", "latency_s", "false_alarms",
                 "false_alarms_per_hour", "per_source")


def stream_summary(record: dict) -> dict:
  """The always-on metrics of one streamed file: gate stop fraction, compute saving and (with a
  truth) keyword recall, detection latency and false alarms per hour (overall and per source)."""
  out = {"path": record["path"], "input": record.get("input"), "duration_s": record["duration_s"],
         "stopped_fraction": record["stopped_fraction"], "compute_saving": record["compute_saving"],
         "detections": len(record["detections"])}
  truth = record.get("truth_eval")
  if truth is not None:
    out.update({k: truth[k] for k in _SUMMARY_KEYS if k in truth})
  return out
