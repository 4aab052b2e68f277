"""Turning a recording of any length into the model's fixed-length windows.

- A clip no longer than the window is centred on the faint bed noise that evaluation windows sit on
  (`config.data.bed_noise_db`, drawn from a fixed seed so a file always gives the same window), as
  `gcnet.data.audio.windows.KwsWindows` builds its evaluation examples.
- A longer clip gives candidate windows every `hop` samples (the last one reaching the end); the
  caller picks one: the centre window, or the window the (first) gate is most confident in
  ("max_gate", the default of `gcnet.cli.predict`: a keyword need not sit in the middle of a file).
"""

import numpy as np

from gcnet.data.audio import windows as aw
from gcnet.data.audio import background as bg

LONG_CLIP_MODES = ("max_gate", "centre")
_BED_SEED = 0


def bed(window_len: int, bed_noise_db: float) -> np.ndarray:
  """The deterministic bed float32 `[window_len]` (zeros when `bed_noise_db <= -120`)."""
  sampler = bg.BackgroundSampler(weights={"silence": 1.0}, bed_noise_db=float(bed_noise_db))
  return sampler.bed(aw.example_rng(_BED_SEED), window_len)


def centred_window(clip: np.ndarray, window_len: int, bed_noise_db: float) -> np.ndarray:
  """`clip [T]` centred in a window `[window_len]` on the bed (a longer clip is centre-cropped)."""
  return aw.place(clip, window_len, aw.centre_offset(clip.shape[0], window_len),
                  bed(window_len, bed_noise_db))


def candidate_windows(clip: np.ndarray, window_len: int, hop: int, bed_noise_db: float
                      ) -> tuple[np.ndarray, np.ndarray]:
  """Windows to consider for one clip.

  Returns:
    `(windows float32 [N, window_len], starts int [N])`: one centred window (start <= 0, the
    clip's offset in it, negated) for a clip no longer than the window; else sliding windows every
    `hop` samples with their start samples in the clip.
  """
  if clip.shape[0] <= window_len:
    offset = aw.centre_offset(clip.shape[0], window_len)
    return centred_window(clip, window_len, bed_noise_db)[None], np.array([-offset])
  windows = aw.sliding_windows(clip, window_len, hop)
  return windows, np.arange(windows.shape[0]) * hop

