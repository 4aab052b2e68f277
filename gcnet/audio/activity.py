"""Speech-active and quiet parts of a recording, by level.

A frame of `frame_seconds` is *active* when its RMS level is at least `threshold_db` dBFS; each
active frame also marks `hangover_seconds` on either side as active (so word onsets, decays and
short gaps inside a word count as speech). Everything else is *quiet*. The default -40 dBFS over
20 ms frames sits above the codec streams' background noise (-60..-40 dBFS RMS, mostly below) and
below their speech (-30..-18 dBFS RMS per clip); see docs/results/codec_dsl.md.
"""

import numpy as np

THRESHOLD_DB = -40.0
FRAME_SECONDS = 0.02
HANGOVER_SECONDS = 0.1


def frame_levels_db(wave: np.ndarray, frame: int) -> np.ndarray:
  """RMS dBFS of consecutive `frame`-sample frames of `wave [T]` (the last one zero-padded): `[F]`."""
  wave = np.asarray(wave, np.float64)
  x = np.pad(wave, (0, -wave.shape[0] % frame)).reshape(-1, frame)
  return 10.0 * np.log10(np.mean(np.square(x), -1) + 1e-12)


def active_mask(wave: np.ndarray, sample_rate: int, threshold_db: float = THRESHOLD_DB,
                frame_seconds: float = FRAME_SECONDS,
                hangover_seconds: float = HANGOVER_SECONDS) -> np.ndarray:
  """Bool `[T]`: True on the speech-active samples of `wave [T]` (module docstring)."""
  frame = max(1, int(round(frame_seconds * sample_rate)))
  active = frame_levels_db(wave, frame) >= threshold_db
  spread = int(round(hangover_seconds * sample_rate / frame))
  if spread and active.any():
    kernel = np.ones(2 * spread + 1)
    active = np.convolve(active.astype(np.float64), kernel, mode="same") > 0
  return np.repeat(active, frame)[:np.shape(wave)[0]]


def regions(mask: np.ndarray) -> list[tuple[int, int]]:
  """`[(start, end), ...]` of the runs of True in the bool `mask [T]` (end exclusive)."""
  padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
  edges = np.flatnonzero(padded[1:] != padded[:-1])
  return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def file_threshold_db(wave: np.ndarray, sample_rate: int, below_peak_db: float = 20.0,
                      frame_seconds: float = FRAME_SECONDS) -> float:
  """The level threshold for a recording of unknown gain: `THRESHOLD_DB`, lowered to
  `below_peak_db` under the loudest frame when the recording is quieter than that."""
  peak = float(np.max(frame_levels_db(wave, max(1, int(round(frame_seconds * sample_rate))))))
  return min(THRESHOLD_DB, peak - below_peak_db)
