"""Writes a long keyword-free recording from negative sources, and its ground truth.

  python -m gcnet.cli.make_background --output=/tmp/background.wav --minutes=30 \
      [--sources=alsa_voices,deepin_sounds,neverball_music,espeak_eval --seed=0]

What it holds: gcnet/runtime/keywords/make_background.py. Score a run on it with
`python -m gcnet.cli.predict --stream --inputs=/tmp/background.wav --truth=/tmp/background.json`
(false alarms per hour, overall and per source).
"""

import numpy as np
from absl import flags

from gcnet.cli import common
from gcnet.data.audio import negatives
from gcnet.runtime.keywords import make_background
from gcnet.runtime.keywords import make_stream


def define_flags():
  flags.DEFINE_string("output", None, "WAV to write; the truth goes beside it as .json.")
  flags.DEFINE_float("minutes", 30.0, "Length of the recording.")
  flags.DEFINE_list("sources", list(negatives.EVAL_SOURCES),
                    f"Negative sources, from: {', '.join(negatives.SOURCES)}.")
  flags.DEFINE_string("cache_dir", "", "Where synthesized words go ('' : ~/.cache/gcnet).")
  flags.DEFINE_integer("sample_rate", 8000, "Of the output (Hz).")
  flags.DEFINE_list("segment_s", ["5", "20"], "Range of a source segment's length (s).")
  flags.DEFINE_bool("by_duration", False, "Draw sources in proportion to their distinct audio "
                    "(else in turn, equal time).")
  flags.DEFINE_integer("seed", 0, "Seed of every random choice.")
  flags.mark_flags_as_required(["output"])


def main(argv):
  del argv
  f = flags.FLAGS
  sources = make_background.load_named_sources(f.sources, f.sample_rate, f.cache_dir)
  wave, truth = make_background.make_background(
      sources, np.random.default_rng(f.seed), minutes=f.minutes, sample_rate=f.sample_rate,
      segment_s=tuple(float(x) for x in f.segment_s), by_duration=f.by_duration)
  truth.update(seed=f.seed)
  truth_path = make_stream.write_stream(f.output, wave, truth)
  print(f"Wrote {f.output} ({truth['duration_s'] / 60:.1f} min; "
        + ", ".join(f"{k} {v / 60:.1f} min" for k, v in truth["sources"].items())
        + f") and {truth_path}.")


if __name__ == "__main__":
  common.run_tool(define_flags, main)
