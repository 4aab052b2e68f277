"""What `python -m gcnet.predict` does, as a function (testable without absl)."""

import contextlib
import json
import sys

from gcnet.audio import audio_io
from gcnet.inference import predict_files
from gcnet.inference import run_loader
from gcnet.inference import staged
from gcnet.inference import stream as stream_lib
from gcnet.inference import stream_truth

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
            truth: str | None = None, batch_size: int = 64) -> dict:
  """Runs the model of `workdir` on `inputs` and writes JSON lines to `output`.

  Returns:
    a summary `{files, theta, theta_source, step, windows_per_stage}`: `windows_per_stage [G+1]`
    counts the windows each stage ran on (the last is the back).
  Raises:
    FileNotFoundError: no run, no inputs.
    gcnet.audio.audio_io.AudioReadError: an unreadable audio file (named in the message); nothing
      is written for it and the run stops there, so a bad file is never silently skipped.
  """
  run = run_loader.load_run(workdir, theta=theta)
  runner = staged.StagedRunner(run.model, run.params, batch_size)
  paths = predict_files.list_inputs(inputs)
  truth_data = None
  if truth:
    if not stream:
      raise ValueError("--truth scores stream detections: use it with --stream.")
    with open(truth) as f:
      truth_data = json.load(f)
  hop = hop_seconds or DEFAULT_HOP["stream" if stream else "file"]
  with _open_output(output) as out:
    for path in paths:
      if stream:
        wave, _ = audio_io.read_audio(path, run.sample_rate)
        record = {"path": path, **stream_lib.stream_file(run, runner, wave, hop)}
        if truth_data is not None:
          record["truth_eval"] = stream_truth.score_detections(record["detections"], truth_data)
      else:
        record = predict_files.predict_file(run, runner, path, long_clip, hop)
      out.write(json.dumps(record) + "\n")
      out.flush()
  return {"files": len(paths), "theta": [float(t) for t in run.thetas],
          "theta_source": run.theta_source, "step": run.step,
          "windows_per_stage": list(runner.windows_per_stage)}
