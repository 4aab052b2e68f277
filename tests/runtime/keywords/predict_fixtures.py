"""A tiny FSDD-style directory of generated WAVs and a tiny trained keyword-spotting run."""

import os

import numpy as np
import soundfile

SPEAKERS = {"alice": 8000, "bob": 16000}
TAKES = (0, 1, 5, 6, 7, 8)   # 0-1: official test; the rest train (validation carved from them)


def tone_hz(digit: int) -> float:
  return 300.0 + 150.0 * digit


def tone(digit: int, rate: int, seconds: float, level: float = 0.3) -> np.ndarray:
  t = np.arange(int(rate * seconds)) / rate
  return (level * np.sin(2 * np.pi * tone_hz(digit) * t)).astype(np.float32)


def write_recordings(directory: str) -> str:
  """FSDD-named clips, a tone per digit, at each speaker's own sample rate."""
  os.makedirs(directory, exist_ok=True)
  for speaker, rate in SPEAKERS.items():
    for digit in range(10):
      for take in TAKES:
        soundfile.write(os.path.join(directory, f"{digit}_{speaker}_{take}.wav"),
                        tone(digit, rate, 0.3 + 0.03 * take), rate, subtype="PCM_16")
  return directory


def tiny_kws_config(source_dir: str, data_dir: str, num_steps: int = 8):
  """The runlocal FSDD GC config over the generated clips (no real background files)."""
  from experiments import fsdd_kws_gc  # pylint: disable=g-import-not-at-top
  config = fsdd_kws_gc.get_config("runlocal")
  with config.unlocked():
    config.data.source_dir = source_dir
    config.data.data_dir = data_dir
    config.data.background_dirs = ("",)
    config.data.negative_sources = {}
    config.data.validation_fraction = 0.25
    config.train.num_steps = num_steps
    config.checkpoint.every_steps = num_steps
    config.mesh.data = 1
  return config


def train_tiny_run(workdir: str, source_dir: str, data_dir: str) -> str:
  from gcnet import tasks  # pylint: disable=g-import-not-at-top
  from gcnet.train import loop  # pylint: disable=g-import-not-at-top
  config = tiny_kws_config(source_dir, data_dir)
  loop.train_and_evaluate(config, workdir, tasks.get_task(config))
  return workdir
