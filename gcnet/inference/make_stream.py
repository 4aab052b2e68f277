"""Writes a long always-on test recording from held-out FSDD clips, and its ground truth.

  python -m gcnet.inference.make_stream --recordings=../shared/data/fsdd/recordings \
      --split=official --output=/tmp/stream.wav [--num_clips=60 --seed=0]

The recording is a faint white bed (as under every training window) with, in turn, a background
stretch (silence, coloured noise or a crop of a real sound of the *test* share of the background
directory, see `gcnet.data.audio.background.load_real_background`) and a spoken digit from the split's
test clips (official: takes 0-4; speaker_held_out: the test speakers). About half the digits are
keywords. `OUTPUT` minus `.wav` plus `.json` gets the truth: `{sample_rate, duration_s, keywords,
events: [{start_s, end_s, file, digit, word, keyword, label_name}], background: [{start_s, end_s,
kind}]}`.
"""

import json
import os
import re

import numpy as np
import soundfile
from absl import app
from absl import flags

from gcnet.audio import audio_io
from gcnet.data.audio import background as bg
from gcnet.data.audio import fsdd

flags.DEFINE_string("recordings", None, "FSDD recordings directory ({digit}_{speaker}_{take}.wav).")
flags.DEFINE_string("output", None, "WAV to write; the truth goes beside it as .json.")
flags.DEFINE_enum("split", "official", ["official", "speaker_held_out"], "Which test clips.")
flags.DEFINE_list("test_speakers", ["theo"], "speaker_held_out: the test speakers.")
flags.DEFINE_list("keywords", ["1", "4", "7"], "Keyword digits (the run's positive classes).")
flags.DEFINE_integer("num_clips", 60, "Spoken digits in the stream.")
flags.DEFINE_float("keyword_fraction", 0.5, "Share of the digits that are keywords.")
flags.DEFINE_float("min_gap", 1.0, "Shortest background stretch between words (s).")
flags.DEFINE_float("max_gap", 3.0, "Longest background stretch between words (s).")
flags.DEFINE_integer("sample_rate", 8000, "Of the output (Hz).")
flags.DEFINE_string("background_dir", bg.DEBIAN_SOUND_THEME_DIR, "Real sounds ('' for none).")
flags.DEFINE_float("bed_noise_db", -70.0, "Level of the white bed (dBFS).")
flags.DEFINE_integer("seed", 0, "Seed of every random choice.")
flags.mark_flags_as_required(["recordings", "output"])

_NAME = re.compile(r"^(\d)_([A-Za-z][A-Za-z0-9-]*)_(\d+)\.wav$")


def test_clips(recordings: str, split: str, test_speakers) -> list[tuple[str, int]]:
  """`[(path, digit)]` of the split's test clips, sorted by name."""
  out = []
  for name in sorted(os.listdir(recordings)):
    m = _NAME.match(name)
    if not m:
      continue
    digit, speaker, take = int(m.group(1)), m.group(2), int(m.group(3))
    held = (take < fsdd.NUM_OFFICIAL_TEST_TAKES if split == "official"
            else speaker in test_speakers)
    if held:
      out.append((os.path.join(recordings, name), digit))
  if not out:
    raise FileNotFoundError(f"No {split} test clips in {recordings}.")
  return out


def make_stream(clips, keywords, rng, *, num_clips: int, keyword_fraction: float,
                min_gap: float, max_gap: float, sample_rate: int, real=(),
                bed_noise_db: float = -70.0) -> tuple[np.ndarray, dict]:
  """Builds the stream `float32 [T]` and its truth dict (see module doc)."""
  keywords = tuple(int(k) for k in keywords)
  kw = [c for c in clips if c[1] in keywords]
  other = [c for c in clips if c[1] not in keywords]
  sampler = bg.BackgroundSampler(real=tuple(real), bed_noise_db=bed_noise_db)
  pieces, events, stretches, t = [], [], [], 0
  for _ in range(num_clips):
    gap = int(rng.uniform(min_gap, max_gap) * sample_rate)
    wave, kind = sampler.window(rng, gap)  # includes the bed
    pieces.append(wave)
    stretches.append({"start_s": t / sample_rate, "end_s": (t + gap) / sample_rate, "kind": kind})
    t += gap
    pool = kw if (rng.uniform() < keyword_fraction and kw) or not other else other
    path, digit = pool[rng.integers(len(pool))]
    clip, _ = audio_io.read_audio(path, sample_rate)
    pieces.append(clip + sampler.bed(rng, clip.shape[0]))
    is_kw = digit in keywords
    events.append({"start_s": t / sample_rate, "end_s": (t + clip.shape[0]) / sample_rate,
                   "file": os.path.basename(path), "digit": digit,
                   "word": fsdd.DIGIT_NAMES[digit], "keyword": is_kw,
                   "label_name": fsdd.DIGIT_NAMES[digit] if is_kw else "background"})
    t += clip.shape[0]
  tail = int(max_gap * sample_rate)
  pieces.append(sampler.bed(rng, tail))
  wave = np.clip(np.concatenate(pieces), -1.0, 1.0).astype(np.float32)
  truth = {"sample_rate": sample_rate, "duration_s": wave.shape[0] / sample_rate,
           "keywords": [fsdd.DIGIT_NAMES[k] for k in keywords], "events": events,
           "background": stretches}
  return wave, truth


def main(argv):
  del argv
  f = flags.FLAGS
  rng = np.random.default_rng(f.seed)
  clips = test_clips(f.recordings, f.split, set(f.test_speakers))
  real = (bg.load_real_background([f.background_dir], f.sample_rate)["test"]
          if f.background_dir else [])
  wave, truth = make_stream(clips, f.keywords, rng, num_clips=f.num_clips,
                            keyword_fraction=f.keyword_fraction, min_gap=f.min_gap,
                            max_gap=f.max_gap, sample_rate=f.sample_rate, real=real,
                            bed_noise_db=f.bed_noise_db)
  truth.update(split=f.split, recordings=f.recordings, seed=f.seed)
  soundfile.write(f.output, wave, f.sample_rate, subtype="PCM_16")
  truth_path = os.path.splitext(f.output)[0] + ".json"
  with open(truth_path, "w") as out:
    json.dump(truth, out, indent=1)
  kws = sum(e["keyword"] for e in truth["events"])
  print(f"Wrote {f.output} ({truth['duration_s']:.1f} s, {len(truth['events'])} words, {kws} "
        f"keywords) and {truth_path}.")


if __name__ == "__main__":
  app.run(main)
