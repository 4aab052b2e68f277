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
| `espeak_eval` | espeak-ng | the same words, voices en-gb+m2/f3, en-us+m7 | (none: synthetic) |
| `asterisk_es_allison` | asterisk-core-sounds-es-wav | Mexican Spanish IVR prompts, woman (31 min) | train |
| `asterisk_ru_ivr` | asterisk-core-sounds-ru-wav | Russian IVR prompts, woman (25 min) | train |
| `asterisk_it_menardi` | asterisk-prompt-it-menardi-wav | Italian IVR prompts, woman (25 min) | train |
| `confusable_synth` | espeak-ng, flite, festival | words from the keywords' phonemes, numbers, other words; 23 voices | train |
| `asterisk_it_carlo` | asterisk-core-sounds-it-wav | Italian IVR prompts, man (24 min) | eval |
| `asterisk_es_co` | asterisk-prompt-es-co | Colombian Spanish prompts (GSM, 10 min) | eval |
| `asterisk_fr_armelle` | asterisk-prompt-fr-armelle | French prompts, woman (GSM, 15 min) | eval |

Synthesized speech (espeak-ng, a formant synthesizer) is not a human voice: it stands in for
"other words" and for the confusable words ("fourteen", "seventeen", "eleven", ...) that no
recording here holds. Synthetic speech is training data only: `espeak_eval` is kept for older runs
but is no evaluation source any more. `confusable_synth` (see `confusables` and `synth_voices`)
speaks the words the CMU dictionary finds closest to the keywords' phonemes. The asterisk prompts
are real human speech in other languages: three speakers train, three others are evaluated.
GSM prompts are decoded once with sox into the cache.

`source_files(name, cache_dir)` lists a source's files (synthesizing the espeak ones once into
`cache_dir`); a missing package is a `FileNotFoundError` naming the `apt-get install` that fixes it.
"""

import hashlib
import os
import shutil
import subprocess

from gcnet.audio import audio_io
from gcnet.data.audio import confusables
from gcnet.data.audio import synth_voices

# Words that sound like the keywords "one", "four", "seven" (confusables), then other words a
# device hears. None is an FSDD digit.
CONFUSABLE_WORDS = ("fourteen", "seventeen", "eleven", "forty", "seventy", "won", "for", "fourth",
                    "seventh", "someone", "heaven", "none", "fourty one", "seventy four",
                    "one hundred", "twenty", "thirteen", "fifteen", "sixteen", "twelve")
OTHER_WORDS = ("hello", "weather", "music", "turn on the light", "okay", "computer", "yes", "no",
               "stop", "go", "left", "right", "up", "down", "good morning", "what time is it",
               "play the news", "call mom", "volume", "thank you")
WORDS = CONFUSABLE_WORDS + OTHER_WORDS
# Numbers that share a keyword's sounds, beside the dictionary's confusables.
NUMBER_WORDS = ("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
                "eighty", "ninety", "hundred", "forty one", "seventy four", "twenty one")
KEYWORD_NAMES = ("one", "four", "seven")   # the FSDD keyword spotter's keywords
CONFUSABLE_VOICE_STRIDE = 8                 # every 8th setting of synth_voices.voice_grid()

_DIR_SOURCES = {
    "sound_theme": ("/usr/share/sounds/freedesktop/stereo", "sound-theme-freedesktop"),
    "tuxtype_sounds": ("/usr/share/tuxtype/sounds", "tuxtype-data"),
    "alsa_voices": ("/usr/share/sounds/alsa", "alsa-utils"),
    "deepin_sounds": ("/usr/share/sounds/deepin/stereo", "deepin-sound-theme"),
    "neverball_music": ("/usr/share/games/neverball/bgm", "neverball-data"),
    "asterisk_es_allison": ("/usr/share/asterisk/sounds/es_MX_f_Allison",
                            "asterisk-core-sounds-es-wav"),
    "asterisk_ru_ivr": ("/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU",
                        "asterisk-core-sounds-ru-wav"),
    "asterisk_it_menardi": ("/usr/share/asterisk/sounds/it_IT_f_Menardi",
                            "asterisk-prompt-it-menardi-wav"),
    "asterisk_it_carlo": ("/usr/share/asterisk/sounds/it_IT_m_Carlo",
                          "asterisk-core-sounds-it-wav"),
}
_GSM_SOURCES = {
    "asterisk_es_co": ("/usr/share/asterisk/sounds/es", "asterisk-prompt-es-co"),
    "asterisk_fr_armelle": ("/usr/share/asterisk/sounds/fr", "asterisk-prompt-fr-armelle"),
}
_ESPEAK_VOICES = {
    "espeak_train": ("en-us+m1", "en-us+m3", "en-us+f1"),
    "espeak_eval": ("en-gb+m2", "en-gb+f3", "en-us+m7"),
}
_ESPEAK_SPEEDS = (130, 175)   # words per minute
# Issue 14's sources (the config default); the issue-21 sets add hours of real speech.
TRAIN_SOURCES = ("sound_theme", "tuxtype_sounds", "espeak_train")
EVAL_SOURCES = ("alsa_voices", "deepin_sounds", "neverball_music", "espeak_eval")
NEW_TRAIN_SOURCES = ("sound_theme", "tuxtype_sounds", "espeak_train", "asterisk_es_allison",
                     "asterisk_ru_ivr", "asterisk_it_menardi", "confusable_synth")
NEW_EVAL_SOURCES = ("alsa_voices", "deepin_sounds", "neverball_music", "asterisk_it_carlo",
                    "asterisk_es_co", "asterisk_fr_armelle")
SYNTHETIC_SOURCES = ("espeak_train", "espeak_eval", "confusable_synth")
SOURCES = tuple(dict.fromkeys(TRAIN_SOURCES + EVAL_SOURCES + NEW_TRAIN_SOURCES + NEW_EVAL_SOURCES))
# Every Debian package the sources need (CI installs these; see scripts/setup.sh).
DEBIAN_PACKAGES = ("sound-theme-freedesktop", "tuxtype-data", "alsa-utils", "deepin-sound-theme",
                   "neverball-data", "espeak-ng", "flite", "festival", "festvox-kallpc16k",
                   "festvox-kdlpc16k", "festvox-us-slt-hts", "festlex-cmu", "festlex-poslex",
                   "sox", "asterisk-core-sounds-es-wav", "asterisk-core-sounds-it-wav",
                   "asterisk-core-sounds-ru-wav", "asterisk-prompt-es-co",
                   "asterisk-prompt-fr-armelle", "asterisk-prompt-it-menardi-wav")


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
    walk = os.walk(directory) if name.startswith("asterisk_") else [(directory, (), ())]
    files = [f for d, _, _ in walk for f in audio_io.list_audio_files(d)] if os.path.isdir(
        directory) else []
    if not files:
      raise FileNotFoundError(f"Negative source {name!r}: no audio in {directory}. Fix: "
                              f"apt-get install {package} (or drop {name} from the sources).")
    return sorted(files)
  cache = cache_dir or default_cache_dir()
  if name in _ESPEAK_VOICES:
    return espeak_words(_ESPEAK_VOICES[name], os.path.join(cache, name))
  if name in _GSM_SOURCES:
    return decode_gsm(*_GSM_SOURCES[name], os.path.join(cache, name))
  if name == "confusable_synth":
    specs = synth_voices.voice_grid()[::CONFUSABLE_VOICE_STRIDE]
    return sorted(p for _, _, p in synth_voices.synthesize(
        confusable_vocabulary(), specs, os.path.join(cache, name)))
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


def confusable_vocabulary(keywords=KEYWORD_NAMES, per_keyword: int = 30) -> tuple[str, ...]:
  """The dictionary's confusables of each keyword, the number words and the other words."""
  found = [w for ws in confusables.confusable_words(keywords, per_keyword).values() for w in ws]
  return tuple(dict.fromkeys(found + list(NUMBER_WORDS) + list(OTHER_WORDS)))


def decode_gsm(directory: str, package: str, out_dir: str) -> list[str]:
  """Every `.gsm` under `directory` decoded once with sox to a WAV in `out_dir`; sorted paths."""
  gsm = sorted(os.path.join(r, f) for r, _, fs in os.walk(directory) for f in fs
               if f.endswith(".gsm")) if os.path.isdir(directory) else []
  if not gsm:
    raise FileNotFoundError(f"No GSM prompts in {directory}. Fix: apt-get install {package}.")
  sox = shutil.which("sox")
  if sox is None:
    raise FileNotFoundError("Decoding GSM prompts needs sox. Fix: apt-get install sox.")
  os.makedirs(out_dir, exist_ok=True)
  paths = []
  for src in gsm:
    rel = os.path.relpath(src, directory)[:-len(".gsm")].replace(os.sep, "__")
    path = os.path.join(out_dir, rel + ".wav")
    if not os.path.exists(path):
      subprocess.run([sox, src, path + ".tmp.wav"], check=True, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE)
      os.replace(path + ".tmp.wav", path)
    paths.append(path)
  return paths


def load_sources(names, sample_rate: int, cache_dir: str = "") -> dict[str, list]:
  """`{source: [wave float32 [T]]}` of each named source, resampled to `sample_rate`."""
  out = {}
  for name in names:
    loaded, _ = audio_io.read_many(source_files(name, cache_dir), sample_rate, skip_corrupt=True,
                                   what=f"negatives of {name}")
    out[name] = [w for _, w in loaded]
  return out
