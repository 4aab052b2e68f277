"""Keyword spotting on audio files: one prediction per file.

Each file is read as mono, resampled to the run's rate and turned into one window (see
`clip_windows`): a short clip is centred; for a longer one, `long_clip="max_gate"` (default) scores
windows every `hop_seconds` with the front and first gate and keeps the one the gate is most
confident in, `long_clip="centre"` takes the centred crop. The chosen window then runs staged: the
back runs only if every gate passes it.
"""

import os

import numpy as np

from gcnet.audio import audio_io
from gcnet.inference import clip_windows as cw
from gcnet.inference import staged
from gcnet.inference.run_loader import LoadedRun

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga")


def list_inputs(inputs: str) -> list[str]:
  """`inputs` is a file (returned as is) or a directory (its audio files, sorted)."""
  if os.path.isdir(inputs):
    files = audio_io.list_audio_files(inputs, AUDIO_EXTENSIONS)
    if not files:
      raise FileNotFoundError(f"No audio files ({', '.join(AUDIO_EXTENSIONS)}) in {inputs}.")
    return files
  if not os.path.exists(inputs):
    raise FileNotFoundError(f"Input {inputs} does not exist.")
  return [inputs]


def choose_window(run: LoadedRun, runner: staged.StagedRunner, clip: np.ndarray,
                  long_clip: str, hop: int):
  """The window of `clip` to classify, with stage 0's output on it when already computed.

  Returns:
    `(window float32 [1, T], start sample in the clip, first)` where `first` is `(z, gate)` of
    stage 0 on the window or None.
  """
  if long_clip not in cw.LONG_CLIP_MODES:
    raise ValueError(f"long_clip={long_clip!r}; use one of {cw.LONG_CLIP_MODES}.")
  bed_db = float(run.config.data.bed_noise_db)
  if clip.shape[0] <= run.window_len or long_clip == "centre" or run.num_gates == 0:
    offset = (run.window_len - clip.shape[0]) // 2
    return cw.centred_window(clip, run.window_len, bed_db)[None], -offset, None
  windows, starts = cw.candidate_windows(clip, run.window_len, hop, bed_db)
  z, gate = runner.stage(0, windows)
  best = int(np.argmax(gate))
  return windows[best:best + 1], int(starts[best]), (z[best:best + 1], gate[best:best + 1])


def predict_file(run: LoadedRun, runner: staged.StagedRunner, path: str,
                 long_clip: str = "max_gate", hop_seconds: float = 0.1) -> dict:
  """The JSON record of one file.

  Raises:
    gcnet.audio.audio_io.AudioReadError: an unreadable or empty file (the message names it).
  """
  clip, _ = audio_io.read_audio(path, run.sample_rate)
  hop = max(1, int(round(hop_seconds * run.sample_rate)))
  window, start, first = choose_window(run, runner, clip, long_clip, hop)
  result = staged.run_staged(runner, window, run.thetas, first=first)
  labels, scores = staged.decisions(result, run.background)
  gates = [float(g) for g in result.gate_probs[0] if not np.isnan(g)]
  record = {
      "path": path,
      "gate": gates[0] if gates else None,
      "stopped": bool(result.stopped[0]),
      "label": int(labels[0]),
      "label_name": run.class_names[int(labels[0])],
      "score": float(scores[0]),
      "duration_s": clip.shape[0] / run.sample_rate,
      "window_start_s": start / run.sample_rate,
  }
  if run.num_gates > 1:
    record["gates"] = gates
  return record
