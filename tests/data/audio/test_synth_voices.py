"""Synthetic voices: a deterministic grid over every installed synthesizer, cached once on disk.

Synthesis needs espeak-ng, flite and festival with its voices (`make setup`); a missing engine
fails loudly naming the `apt-get install`.
"""

import os

import numpy as np
import pytest

from gcnet.audio import audio_io
from gcnet.data.audio import synth_voices as sv


def test_grid_covers_every_engine_voice_and_variation():
  grid = sv.voice_grid()
  assert grid == sv.voice_grid()                      # deterministic
  assert len(set(grid)) == len(grid) == 128 + 45 + 9
  espeak = [s for s in grid if s.engine == "espeak"]
  assert {s.voice.split("+")[0] for s in espeak} == set(sv.ESPEAK_ACCENTS)
  assert {s.voice.split("+")[1] for s in espeak} == set(sv.ESPEAK_VARIANTS)
  for accent in sv.ESPEAK_ACCENTS:                      # every pitch and speed with every accent
    mine = [s for s in espeak if s.voice.startswith(accent + "+")]
    assert {s.pitch for s in mine} == set(sv.ESPEAK_PITCH)
    assert {s.speed for s in mine} == set(sv.ESPEAK_SPEED)
  assert {s.voice for s in grid if s.engine == "flite"} == set(sv.FLITE_VOICES)
  assert {s.voice for s in grid if s.engine == "festival"} == set(sv.FESTIVAL_VOICES)
  assert {s.formant for s in grid if s.engine != "espeak"} == set(sv.FORMANT_SHIFTS)
  with pytest.raises(ValueError, match="Unknown synthesizers"):
    sv.voice_grid(("pico",))


def test_trim_silence_keeps_the_loud_span():
  wave = np.zeros(8000, np.float32)
  wave[3000:4000] = 0.5
  out = sv.trim_silence(wave, margin=100)
  assert out.shape[0] == 1200 and np.abs(out).max() == 0.5


@pytest.mark.needs_data
def test_each_engine_speaks_once_and_caches(tmp_path):
  specs = [sv.VoiceSpec("espeak", "en-gb-scotland+f2", 160, 70),
           sv.VoiceSpec("flite", "slt", 1.25, 190.0, 0.88),
           sv.VoiceSpec("festival", "kal_diphone", 0.85, 0.0, 1.12)]
  try:
    out = sv.synthesize(["seven"], specs, str(tmp_path))
  except FileNotFoundError as e:
    pytest.fail(f"{e}")
  paths = [p for _, _, p in out]
  assert len(set(paths)) == 3 and all(os.path.getsize(p) > 1000 for p in paths)
  mtimes = [os.path.getmtime(p) for p in paths]
  assert [p for _, _, p in sv.synthesize(["seven"], specs, str(tmp_path))] == paths
  assert [os.path.getmtime(p) for p in paths] == mtimes   # cached: not written again
  lengths = [audio_io.read_audio(p, 8000)[0].shape[0] / 8000 for p in paths]
  assert all(0.2 < s < 2.0 for s in lengths)
