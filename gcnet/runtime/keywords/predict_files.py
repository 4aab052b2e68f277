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
from gcnet.runtime.keywords import clip_windows as cw
from gcnet.runtime.keywords.spotter import KeywordSpotter, decisions

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


def choose_window(spotter: KeywordSpotter, clip: np.ndarray, long_clip: str,
                  hop: int) -> tuple[np.ndarray, int]:
  """The window of `clip` to classify: `(window float32 [1, T], start sample in the clip)`."""
  if long_clip not in cw.LONG_CLIP_MODES:
    raise ValueError(f"long_clip={long_clip!r}; use one of {cw.LONG_CLIP_MODES}.")
  bed_db = float(spotter.run.config.data.bed_noise_db)
  window_len = spotter.window_len
  if clip.shape[0] <= window_len or long_clip == "centre" or spotter.num_gates == 0:
    offset = (window_len - clip.shape[0]) // 2
    return cw.centred_window(clip, window_len, bed_db)[None], -offset
  windows, starts = cw.candidate_windows(clip, window_len, hop, bed_db)
  best = int(np.argmax(spotter.runner.first_gate(windows)))
  return windows[best:best + 1], int(starts[best])


def predict_file(spotter: KeywordSpotter, path: str, long_clip: str = "max_gate",
                 hop_seconds: float = 0.1) -> dict:
  """The JSON record of one file.

  Raises:
    gcnet.audio.audio_io.AudioReadError: an unreadable or empty file (the message names it).
  """
  rate = spotter.sample_rate
  clip, _ = audio_io.read_audio(path, rate)
  hop = max(1, int(round(hop_seconds * rate)))
  window, start = choose_window(spotter, clip, long_clip, hop)
  out = spotter.runner(window)
  labels, scores = decisions(out)
  gates = [float(g) for g in out.gate_probs[0] if not np.isnan(g)]
  record = {
      "path": path,
      "gate": gates[0] if gates else None,
      "stopped": bool(out.stopped_at[0] < spotter.num_gates),
      "label": int(labels[0]),
      "label_name": spotter.class_names[int(labels[0])],
      "score": float(scores[0]),
      "duration_s": clip.shape[0] / rate,
      "window_start_s": start / rate,
  }
  if spotter.num_gates > 1:
    record["gates"] = gates
  return record
