"""Real negatives for always-on keyword spotting, from Debian packages: named sources, kept apart.

Each source is a set of recordings a microphone could hear that hold none of the keywords. The
training sources and the evaluation sources are disjoint (different packages, and for synthesized
speech different voices), so evaluation measures false alarms on sounds the model never heard:

| source | package | what | role |
| --- | --- | --- | --- |
| `sound_theme` | sound-theme-freedesktop | bells, alerts, phone tones, spoken channel names | train |
| `tuxtype_sounds` | tuxtype-data | game music (3 Ogg tracks) and effects, a spoken "excuse me" | train |
| `espeak_train` | espeak-ng | confusable and other words, voices en-us+m1/m3/f1 | train |
| `alsa_voices` | alsa-utils | a recorded human voice naming speaker channels, and noise | eval |
| `deepin_sounds` | deepin-sound-theme | another desktop sound theme (alerts, shutter, logins) | eval |
| `neverball_music` | neverball-data | game music (Ogg background tracks) | eval |
| `espeak_eval` | espeak-ng | the same words, unseen voices en-gb+m2/f3, en-us+m7 | eval |

Synthesized speech (espeak-ng, a formant synthesizer) is not a human voice: it stands in for
"other words" and for the confusable words ("fourteen", "seventeen", "eleven", ...) that no
recording here holds, and its false-alarm rate is reported as its own source.

`source_files(name, cache_dir)` lists a source's files (synthesizing the espeak ones once into
`cache_dir`); a missing package is a `FileNotFoundError` naming the `apt-get install` that fixes it.
"""

import hashlib
import os
import shutil
import subprocess

from gcnet.audio import audio_io

# Words that sound like the keywords "one", "four", "seven" (confusables), then other words a
# device hears. None is an FSDD digit.
CONFUSABLE_WORDS = ("fourteen", "seventeen", "eleven", "forty", "seventy", "won", "for", "fourth",
                    "seventh", "someone", "heaven", "none", "fourty one", "seventy four",
                    "one hundred", "twenty", "thirteen", "fifteen", "sixteen", "twelve")
OTHER_WORDS = ("hello", "weather", "music", "turn on the light", "okay", "computer", "yes", "no",
               "stop", "go", "left", "right", "up", "down", "good morning", "what time is it",
               "play the news", "call mom", "volume", "thank you")
WORDS = CONFUSABLE_WORDS + OTHER_WORDS

_DIR_SOURCES = {
    "sound_theme": ("/usr/share/sounds/freedesktop/stereo", "sound-theme-freedesktop"),
    "tuxtype_sounds": ("/usr/share/tuxtype/sounds", "tuxtype-data"),
    "alsa_voices": ("/usr/share/sounds/alsa", "alsa-utils"),
    "deepin_sounds": ("/usr/share/sounds/deepin/stereo", "deepin-sound-theme"),
    "neverball_music": ("/usr/share/games/neverball/bgm", "neverball-data"),
}
_ESPEAK_VOICES = {
    "espeak_train": ("en-us+m1", "en-us+m3", "en-us+f1"),
    "espeak_eval": ("en-gb+m2", "en-gb+f3", "en-us+m7"),
}
_ESPEAK_SPEEDS = (130, 175)   # words per minute
TRAIN_SOURCES = ("sound_theme", "tuxtype_sounds", "espeak_train")
EVAL_SOURCES = ("alsa_voices", "deepin_sounds", "neverball_music", "espeak_eval")
SOURCES = TRAIN_SOURCES + EVAL_SOURCES
# Every Debian package the sources need (CI installs these; see scripts/setup.sh).
DEBIAN_PACKAGES = ("sound-theme-freedesktop", "tuxtype-data", "alsa-utils", "deepin-sound-theme",
                   "neverball-data", "espeak-ng")


def default_cache_dir() -> str:
  return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                      "gcnet", "negatives")


def source_files(name: str, cache_dir: str = "") -> list[str]:
  """Sorted audio files of source `name` (see the module table).

  Raises:
    ValueError: an unknown source.
    FileNotFoundError: its Debian package is not installed (the message names it).
  """
  if name in _DIR_SOURCES:
    directory, package = _DIR_SOURCES[name]
    files = audio_io.list_audio_files(directory) if os.path.isdir(directory) else []
    if not files:
      raise FileNotFoundError(f"Negative source {name!r}: no audio in {directory}. Fix: "
                              f"apt-get install {package} (or drop {name} from the sources).")
    return sorted(files)
  if name in _ESPEAK_VOICES:
    return espeak_words(_ESPEAK_VOICES[name], os.path.join(cache_dir or default_cache_dir(), name))
  raise ValueError(f"Unknown negative source {name!r}; sources: {', '.join(SOURCES)}.")


def espeak_words(voices, out_dir: str, words=WORDS, speeds=_ESPEAK_SPEEDS) -> list[str]:
  """Synthesizes every word in every voice and speed with espeak-ng into `out_dir` (once).

  Returns the WAV paths, sorted. A file already there (same name) is kept: names encode the word,
  voice and speed, so the set is rebuilt only when those change.
  """
  exe = shutil.which("espeak-ng")
  if exe is None:
    raise FileNotFoundError("Negative sources espeak_*: espeak-ng is not installed. Fix: "
                            "apt-get install espeak-ng.")
  os.makedirs(out_dir, exist_ok=True)
  paths = []
  for voice in voices:
    for speed in speeds:
      for word in words:
        tag = hashlib.sha1(f"{word}|{voice}|{speed}".encode()).hexdigest()[:8]
        path = os.path.join(out_dir, f"{word.replace(' ', '_')}_{voice.replace('+', '-')}_"
                                     f"{speed}_{tag}.wav")
        if not os.path.exists(path):
          tmp = path + ".tmp.wav"
          subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", tmp, word], check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
          os.replace(tmp, path)
        paths.append(path)
  return sorted(paths)


def load_sources(names, sample_rate: int, cache_dir: str = "") -> dict[str, list]:
  """`{source: [wave float32 [T]]}` of each named source, resampled to `sample_rate`."""
  out = {}
  for name in names:
    loaded, _ = audio_io.read_many(source_files(name, cache_dir), sample_rate, skip_corrupt=True,
                                   what=f"negatives of {name}")
    out[name] = [w for _, w in loaded]
  return out
