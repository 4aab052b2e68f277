"""The trained DSL codec committed in weights/codec_dsl: it loads like a run, routes a real
held-out utterance over both decoders, and reconstructs it (docs/results/codec_dsl.md)."""

import json
import os

import jax
import numpy as np
import pytest

from gcnet.audio import audio_io
from gcnet.data.audio import background
from gcnet.audio import stream_quality

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEIGHTS = os.path.join(REPO, "weights", "codec_dsl")


@pytest.fixture(scope="module")
def committed():
  from gcnet.runtime.load import load_run  # pylint: disable=g-import-not-at-top
  if not os.path.isdir(WEIGHTS):
    pytest.fail(f"{WEIGHTS} is missing: the trained codec is part of the repository "
                "(bash scripts/codec_runs.sh writes it).")
  return load_run(WEIGHTS, with_dataset=False, kinds=("codec",))


def test_committed_weights_load_as_the_documented_codec(committed):
  info = json.load(open(os.path.join(WEIGHTS, "weights.json")))
  assert committed.step == info["step"]
  assert committed.model.pathway == "dsl" and committed.model.sample_rate == 8000
  count = sum(int(np.size(x)) for x in jax.tree.leaves(committed.params))
  assert count == info["params"]
  assert bool(committed.model_state["quantizer"]["quantizer"]["initialized"])


@pytest.mark.needs_data
def test_committed_codec_reconstructs_a_held_out_speaker(committed, fsdd_dir):
  from gcnet.models.codec import code_wave  # pylint: disable=g-import-not-at-top
  clips = [audio_io.read_audio(os.path.join(fsdd_dir, f"{d}_theo_{i}.wav"))[0]
           for d in range(10) for i in (40, 41)]  # theo is the test speaker of the codec runs
  pause = np.zeros(2000, np.float32)
  wave = np.concatenate([np.concatenate([background.set_level_db(c, -24.0), pause])
                         for c in clips]).astype(np.float32)
  recon, heavy = code_wave(committed.model, committed.variables, wave)
  q = stream_quality.stream_quality(wave, recon[:wave.size], 8000)
  # The switch is calibrated to send 20% of a validation stream heavy, the segments where the
  # light decoder's log-mel error exceeds the heavy one's the most: on this dense utterance with
  # digital-silence pauses, 77% (both decoders run).
  assert 0.05 < heavy.mean() < 0.95
  # Measured PESQ 2.13 / STOI 0.91 when committed; an untrained codec scores about 1.2 / 0.3-0.5.
  assert q["speech"]["pesq"] > 1.9 and q["speech"]["stoi"] > 0.85
