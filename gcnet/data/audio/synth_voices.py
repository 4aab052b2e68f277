"""Synthetic voices: words spoken by every offline synthesizer installed here, cached to disk once.

FSDD has six speakers; a keyword spotter trained on four of them meets a fifth voice it has never
heard. These clips add voices for training only (never for evaluation): every English voice of

| engine | Debian package | voices | variations |
| --- | --- | --- | --- |
| `espeak` | espeak-ng | 8 English accents x 16 voice variants (formant sets m1-m7, f1-f5, klatt...) | pitch (-p), speed (-s) |
| `flite` | flite | kal, kal16, awb, rms, slt | duration stretch, f0 target mean |
| `festival` | festival + festvox-kallpc16k, -kdlpc16k, -us-slt-hts | kal, ked (diphone), slt (HTS) | duration stretch |

and, on the flite and festival clips, a vocal-tract scaling (`augment.speed_perturb` by a factor:
formants and pitch move together by it, as for a shorter or longer vocal tract; the duration by
its inverse). mbrola voices (espeak-ng's `mb-*`) and SVOX Pico
(`libttspico-utils`) are not in Debian main here, so they are not used.

`VoiceSpec` names one voice setting; `voice_grid(engines)` the deterministic list of them;
`synthesize(words, specs, cache_dir)` writes each (word, spec) once as a WAV whose name holds a hash
of both (so the cache is rebuilt only for what changed) and returns the paths. A missing engine is a
`FileNotFoundError` naming the `apt-get install`.
"""

import dataclasses
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np

from gcnet.audio import audio_io

ENGINES = ("espeak", "flite", "festival")
ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
                  "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt2", "klatt4", "croak")
ESPEAK_PITCH = (30, 50, 70)           # espeak-ng -p (0-99; 50 is the voice's own)
ESPEAK_SPEED = (130, 160, 200)        # words per minute
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
FLITE_F0 = (90.0, 130.0, 190.0)       # int_f0_target_mean, Hz
STRETCH = (0.85, 1.0, 1.25)           # duration stretch (flite, festival)
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")
FORMANT_SHIFTS = (1.0, 0.88, 1.12)    # vocal-tract factors applied to flite / festival clips
PACKAGES = {"espeak": "espeak-ng", "flite": "flite",
            "festival": "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"}
_EXES = {"espeak": "espeak-ng", "flite": "flite", "festival": "festival"}


@dataclasses.dataclass(frozen=True)
class VoiceSpec:
  """One synthetic voice setting.

  Attributes:
    engine: "espeak", "flite" or "festival".
    voice: the engine's voice name (espeak: "accent+variant").
    speed: espeak words per minute, or the duration stretch of flite / festival (>1: slower).
    pitch: espeak's -p, flite's f0 target mean in Hz, 0 for festival (its voice's own).
    formant: vocal-tract factor applied afterwards (`augment.speed_perturb`; 1: none).
  """

  engine: str
  voice: str
  speed: float
  pitch: float = 0.0
  formant: float = 1.0

  @property
  def tag(self) -> str:
    return f"{self.engine}_{self.voice.replace('+', '-')}_s{self.speed:g}_p{self.pitch:g}_f{self.formant:g}"


def voice_grid(engines=ENGINES) -> list[VoiceSpec]:
  """Every voice of `engines`, each with a deterministic cycle of its variations.

  espeak: each (accent, variant) once, its (pitch, speed) cycling through the 3 x 3 grid, so every
  pitch and speed appears with every accent (128 settings). flite: every voice x stretch x f0
  (45). festival: every voice x stretch (9). flite and festival settings then get each formant
  factor in turn (one per setting, cycling).
  """
  unknown = set(engines) - set(ENGINES)
  if unknown:
    raise ValueError(f"Unknown synthesizers {sorted(unknown)}; engines: {ENGINES}.")
  specs = []
  if "espeak" in engines:
    i = 0
    for accent in ESPEAK_ACCENTS:
      for variant in ESPEAK_VARIANTS:
        pitch = ESPEAK_PITCH[i % 3]
        speed = ESPEAK_SPEED[(i // 3 + i) % 3]
        specs.append(VoiceSpec("espeak", f"{accent}+{variant}", speed, pitch))
        i += 1
  i = 0
  if "flite" in engines:
    for voice in FLITE_VOICES:
      for stretch in STRETCH:
        for f0 in FLITE_F0:
          specs.append(VoiceSpec("flite", voice, stretch, f0, FORMANT_SHIFTS[i % 3]))
          i += 1
  if "festival" in engines:
    for voice in FESTIVAL_VOICES:
      for stretch in STRETCH:
        specs.append(VoiceSpec("festival", voice, stretch, 0.0, FORMANT_SHIFTS[i % 3]))
        i += 1
  return specs


def check_engine(engine: str) -> str:
  """The engine's executable; FileNotFoundError naming the apt-get install when it is missing."""
  exe = shutil.which(_EXES[engine])
  if exe is None:
    raise FileNotFoundError(f"Synthesizer {engine} is not installed. Fix: apt-get install "
                            f"{PACKAGES[engine]} (or leave {engine} out of the engines).")
  if engine == "festival":
    for voice in FESTIVAL_VOICES:
      if not any(os.path.isdir(os.path.join(d, voice)) for d in
                 ("/usr/share/festival/voices/english", "/usr/share/festival/voices/us")):
        raise FileNotFoundError(f"Festival voice {voice} is not installed. Fix: apt-get install "
                                f"{PACKAGES['festival']}.")
  return exe


def clip_path(cache_dir: str, word: str, spec: VoiceSpec) -> str:
  key = hashlib.sha1(f"{word}|{spec}".encode()).hexdigest()[:8]
  return os.path.join(cache_dir, spec.engine, f"{word.replace(' ', '_')}_{spec.tag}_{key}.wav")


def synthesize(words, specs, cache_dir: str) -> list[tuple[str, VoiceSpec, str]]:
  """Writes every (word, spec) not yet in `cache_dir`; returns `[(word, spec, path)]` in order."""
  out, todo = [], []
  for spec in specs:
    for word in words:
      path = clip_path(cache_dir, word, spec)
      out.append((word, spec, path))
      if not os.path.exists(path):
        todo.append((word, spec, path))
  by_engine = {}
  for item in todo:
    by_engine.setdefault(item[1].engine, []).append(item)
  for engine, items in by_engine.items():
    exe = check_engine(engine)
    os.makedirs(os.path.join(cache_dir, engine), exist_ok=True)
    if engine == "festival":
      _festival(exe, items)
    else:
      for word, spec, path in items:
        tmp = path + ".tmp.wav"
        _run_one(exe, word, spec, tmp)
        _finish(tmp, path, spec)
  return out


def _run_one(exe: str, word: str, spec: VoiceSpec, out: str) -> None:
  if spec.engine == "espeak":
    cmd = [exe, "-v", spec.voice, "-s", str(int(spec.speed)), "-p", str(int(spec.pitch)),
           "-w", out, word]
  else:
    cmd = [exe, "-voice", spec.voice, "-t", word, "-o", out,
           "--setf", f"duration_stretch={spec.speed}", "--setf", f"int_f0_target_mean={spec.pitch}"]
  subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _festival(exe: str, items) -> None:
  """One festival process writes every item (a process per word would cost 0.5 s each)."""
  with tempfile.TemporaryDirectory() as tmp:
    lines, moves = [], []
    for k, (word, spec, path) in enumerate(items):
      part = os.path.join(tmp, f"{k}.wav")
      lines += [f"(voice_{spec.voice})", f"(Parameter.set 'Duration_Stretch {spec.speed})",
                f'(utt.save.wave (utt.synth (Utterance Text "{word}")) "{part}" \'riff)']
      moves.append((part, path))
    script = os.path.join(tmp, "synth.scm")
    with open(script, "w") as f:
      f.write("\n".join(lines) + "\n")
    subprocess.run([exe, "-b", script], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    for (part, path), (_, spec, _) in zip(moves, items):
      shutil.move(part, path + ".tmp.wav")
      _finish(path + ".tmp.wav", path, spec)


def _finish(tmp: str, path: str, spec: VoiceSpec) -> None:
  """Applies the vocal-tract factor to the fresh clip `tmp`, then moves it to `path` (atomic)."""
  if spec.formant != 1.0:
    import soundfile  # pylint: disable=g-import-not-at-top
    from gcnet.data.audio import augment  # pylint: disable=g-import-not-at-top
    wave, rate = audio_io.read_audio(tmp)
    soundfile.write(tmp, augment.speed_perturb(wave, spec.formant), rate, subtype="PCM_16")
  os.replace(tmp, path)


def load_words(words, engines, cache_dir: str, sample_rate: int
               ) -> list[tuple[str, VoiceSpec, np.ndarray]]:
  """`[(word, spec, wave float32 [T])]` of every word in every voice of `engines`, at the rate,
  each clip trimmed of leading and trailing silence and scaled to -26 dBFS RMS."""
  from gcnet.data.audio import background as bg  # pylint: disable=g-import-not-at-top
  out = []
  for word, spec, path in synthesize(words, voice_grid(engines), cache_dir):
    wave, _ = audio_io.read_audio(path, sample_rate)
    out.append((word, spec, bg.set_level_db(trim_silence(wave), -26.0)))
  return out


def trim_silence(wave: np.ndarray, threshold_db: float = -40.0, margin: int = 400) -> np.ndarray:
  """`wave` cut to the span whose samples reach `threshold_db` below its peak, plus `margin`."""
  peak = float(np.max(np.abs(wave))) if wave.size else 0.0
  if peak <= 0:
    return wave
  loud = np.flatnonzero(np.abs(wave) >= peak * 10 ** (threshold_db / 20))
  return wave[max(0, loud[0] - margin):loud[-1] + 1 + margin]
