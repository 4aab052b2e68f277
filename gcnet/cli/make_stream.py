"""Writes a long always-on test recording from held-out FSDD clips, and its ground truth.

  python -m gcnet.cli.make_stream --recordings=../shared/data/fsdd/recordings \
      --split=official --output=/tmp/stream.wav [--num_clips=60 --seed=0]

What the stream holds: gcnet/runtime/keywords/make_stream.py.
"""

import numpy as np
from absl import flags

from gcnet.cli import common
from gcnet.data.audio import background
from gcnet.runtime.keywords import make_stream


def define_flags():
  flags.DEFINE_string("recordings", None,
                      "FSDD recordings directory ({digit}_{speaker}_{take}.wav).")
  flags.DEFINE_string("output", None, "WAV to write; the truth goes beside it as .json.")
  flags.DEFINE_enum("split", "official", ["official", "speaker_held_out"], "Which test clips.")
  flags.DEFINE_list("test_speakers", ["theo"], "speaker_held_out: the test speakers.")
  flags.DEFINE_list("keywords", ["1", "4", "7"], "Keyword digits (the run's positive classes).")
  flags.DEFINE_integer("num_clips", 60, "Spoken digits in the stream.")
  flags.DEFINE_float("keyword_fraction", 0.5, "Share of the digits that are keywords.")
  flags.DEFINE_float("min_gap", 1.0, "Shortest background stretch between words (s).")
  flags.DEFINE_float("max_gap", 3.0, "Longest background stretch between words (s).")
  flags.DEFINE_integer("sample_rate", 8000, "Of the output (Hz).")
  flags.DEFINE_string("background_dir", background.DEBIAN_SOUND_THEME_DIR,
                      "Real sounds ('' for none).")
  flags.DEFINE_float("bed_noise_db", -70.0, "Level of the white bed (dBFS).")
  flags.DEFINE_float("speaker_level_db", None, "Scale each speaker's clips so that the speaker's "
                     "median clip RMS is this (dBFS): the per-speaker level normalisation of "
                     "training (config.data.speaker_level_norm); unset: as recorded.")
  flags.DEFINE_integer("seed", 0, "Seed of every random choice.")
  flags.mark_flags_as_required(["recordings", "output"])


def main(argv):
  del argv
  f = flags.FLAGS
  rng = np.random.default_rng(f.seed)
  clips = make_stream.test_clips(f.recordings, f.split, set(f.test_speakers))
  real = (background.load_real_background([f.background_dir], f.sample_rate)["test"]
          if f.background_dir else [])
  wave, truth = make_stream.make_stream(clips, f.keywords, rng, num_clips=f.num_clips,
                                        keyword_fraction=f.keyword_fraction, min_gap=f.min_gap,
                                        max_gap=f.max_gap, sample_rate=f.sample_rate, real=real,
                                        bed_noise_db=f.bed_noise_db,
                                        speaker_level_db=f.speaker_level_db)
  truth.update(split=f.split, recordings=f.recordings, seed=f.seed,
               speaker_level_db=f.speaker_level_db)
  truth_path = make_stream.write_stream(f.output, wave, truth)
  kws = sum(e["keyword"] for e in truth["events"])
  print(f"Wrote {f.output} ({truth['duration_s']:.1f} s, {len(truth['events'])} words, {kws} "
        f"keywords) and {truth_path}.")


if __name__ == "__main__":
  common.run_tool(define_flags, main)
