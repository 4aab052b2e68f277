"""Generated audio files for the codec data, training and CLI tests."""

import os

import numpy as np
import soundfile

SPEAKERS = ("alice", "bob", "carol", "dave")


def tone(seconds: float, rate: int, freq: float, seed: int = 0) -> np.ndarray:
  """A voiced-speech-like test clip: a harmonic tone with a raised-cosine envelope, float32."""
  t = np.arange(int(seconds * rate)) / rate
  rng = np.random.RandomState(seed)
  x = sum(np.sin(2 * np.pi * freq * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3))
  env = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(t.size) / max(t.size - 1, 1))
  return (0.3 * x * env).astype(np.float32)


def write_fsdd_like(directory: str, speakers=SPEAKERS, digits=(0, 1), takes=2,
                    seconds: float = 0.3, rate: int = 8000) -> dict[str, float]:
  """`{digit}_{speaker}_{index}.wav` clips (speaker `i` at pitch 150 + 50 i Hz).

  Returns the total clip seconds of each speaker."""
  os.makedirs(directory, exist_ok=True)
  totals = {}
  for i, speaker in enumerate(speakers):
    for digit in digits:
      for take in range(takes):
        wave = tone(seconds, rate, 150 + 50 * i, seed=10 * digit + take)
        soundfile.write(os.path.join(directory, f"{digit}_{speaker}_{take}.wav"), wave, rate,
                        subtype="PCM_16")
        totals[speaker] = totals.get(speaker, 0.0) + wave.size / rate
  return totals
