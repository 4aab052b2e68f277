"""Recorded human speech from Debian packages plus FSDD, one TFDS split per speaker.

`SpeechCorpusBuilder` (TFDS name `gcnet_speech_corpus`, `array_record`, no TensorFlow) reads local
files only: the Asterisk telephone prompts of six professional speakers (8 kHz; WAV, or GSM 6.10
decoded by libsndfile) and the Free Spoken Digit Dataset's six speakers. Every example is one
recorded file: int16 audio at the builder's `sample_rate` (resampled if needed), speaker, language,
source (Debian package or "fsdd") and file name. Each speaker is its own split, named like
`SPEAKERS` (`fsdd_<name>` for FSDD), so an experiment holds out whole speakers (and languages)
without rebuilding (`gcnet.data.audio.speech_streams`).

| speaker | language | Debian package | files | licence |
| --- | --- | --- | --- | --- |
| es_mx_allison | es (Mexican) | asterisk-core-sounds-es-wav | WAV | CC BY-SA 3.0 |
| es_co | es (Colombian) | asterisk-prompt-es-co | GSM | GPL-2 |
| it_carlo | it | asterisk-core-sounds-it-wav | WAV | CC BY-SA 3.0 |
| it_menardi | it | asterisk-prompt-it-menardi-wav | WAV | CC BY-SA 3.0 (Italian) |
| ru_ivrvoice | ru | asterisk-core-sounds-ru-wav | WAV | CC BY-SA 3.0 |
| fr_armelle | fr | asterisk-prompt-fr-armelle | GSM | BSD-style (copyright M. Gutierrez) |
| fsdd_* | en | none (`../shared/data/fsdd`) | WAV | CC BY-SA 4.0 |

The packages' `silence/` recordings are left out (they hold no speech). Install the packages with
`scripts/setup.sh` (or the `apt-get install` the missing-data error names).
"""

import dataclasses
import hashlib
import os

from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from gcnet.audio import audio_io
from gcnet.data.audio import fsdd

ASTERISK_ROOT = "/usr/share/asterisk/sounds"
FSDD_SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")


@dataclasses.dataclass(frozen=True)
class Speaker:
  """One speaker's recordings: `directory` under the Asterisk sounds root, from `package`."""
  name: str
  language: str
  package: str
  directory: str
  licence: str


SPEAKERS = (
    Speaker("es_mx_allison", "es", "asterisk-core-sounds-es-wav", "es_MX_f_Allison", "CC BY-SA 3.0"),
    Speaker("es_co", "es", "asterisk-prompt-es-co", "es", "GPL-2"),
    Speaker("it_carlo", "it", "asterisk-core-sounds-it-wav", "it_IT_m_Carlo", "CC BY-SA 3.0"),
    Speaker("it_menardi", "it", "asterisk-prompt-it-menardi-wav", "it_IT_f_Menardi",
            "CC BY-SA 3.0 IT"),
    Speaker("ru_ivrvoice", "ru", "asterisk-core-sounds-ru-wav", "ru_RU_f_IvrvoiceRU",
            "CC BY-SA 3.0"),
    Speaker("fr_armelle", "fr", "asterisk-prompt-fr-armelle", "fr", "BSD-style"),
)
SPEAKER_NAMES = tuple(s.name for s in SPEAKERS) + tuple(f"fsdd_{n}" for n in FSDD_SPEAKERS)
EXTENSIONS = (".wav", ".gsm")
EXCLUDED_DIRS = ("silence",)


def install_hint(packages) -> str:
  return f"apt-get install {' '.join(packages)} (or bash scripts/setup.sh)"


def speaker_files(root: str, speaker: Speaker) -> list[str]:
  """Sorted speech files of `speaker` under `root` (recursive, `silence/` excluded, each real file
  once). FileNotFoundError naming the `apt-get install` when the directory is missing or empty."""
  directory = os.path.join(root, speaker.directory)
  files, seen = [], set()
  for base, dirs, names in os.walk(directory, followlinks=False):
    dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS)
    for name in sorted(names):
      path = os.path.join(base, name)
      real = os.path.realpath(path)
      if name.lower().endswith(EXTENSIONS) and os.path.isfile(real) and real not in seen:
        seen.add(real)
        files.append(path)
  if not files:
    raise FileNotFoundError(
        f"No recordings of speaker {speaker.name!r} in {directory}: the Debian package "
        f"{speaker.package} is missing. Fix: {install_hint([speaker.package])}.")
  return files


def corpus_files(asterisk_root: str, fsdd_dir: str) -> dict[str, list[str]]:
  """`{speaker name: [path]}` for every speaker of `SPEAKER_NAMES`; one error lists every missing
  package."""
  out, missing = {}, []
  for speaker in SPEAKERS:
    try:
      out[speaker.name] = speaker_files(asterisk_root, speaker)
    except FileNotFoundError:
      missing.append(speaker.package)
  if missing:
    raise FileNotFoundError(
        f"The speech corpus needs the Debian packages {', '.join(missing)} (recordings under "
        f"{asterisk_root}). Fix: {install_hint(missing)}.")
  if not fsdd_dir or not os.path.isdir(fsdd_dir):
    raise FileNotFoundError(
        f"No FSDD recordings at {fsdd_dir!r}: set config.data.source_dir to a directory of "
        "{digit}_{speaker}_{index}.wav files (e.g. ../shared/data/fsdd/recordings).")
  for path in audio_io.list_audio_files(fsdd_dir, (".wav",)):
    out.setdefault(f"fsdd_{fsdd.parse_name(path)[1]}", []).append(path)
  unknown = sorted(set(out) - set(SPEAKER_NAMES))
  if unknown:
    raise ValueError(f"FSDD at {fsdd_dir} holds speakers {unknown} beyond {FSDD_SPEAKERS}.")
  return out


def fingerprint(files: dict[str, list[str]]) -> str:
  """A hash of every speaker's file names and sizes (detects a corpus built from other files)."""
  h = hashlib.sha1()
  for name in sorted(files):
    for p in files[name]:
      h.update(f"{name}/{os.path.basename(p)}:{os.path.getsize(p)};".encode())
  return h.hexdigest()


class SpeechCorpusBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """TFDS builder of the speech corpus from local files (module docstring); split = speaker."""

  name = "gcnet_speech_corpus"
  code_path = epath.Path(__file__)
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Six Asterisk prompt speakers and six FSDD speakers, split by speaker."}

  def __init__(self, *, asterisk_root: str = ASTERISK_ROOT, fsdd_dir: str = "",
               sample_rate: int = 8000, **kwargs):
    self._asterisk_root = asterisk_root
    self._fsdd_dir = fsdd_dir or fsdd.default_source_dir()
    self._sample_rate = audio_io.check_sample_rate(sample_rate)
    config = tfds.core.BuilderConfig(name=f"sr{self._sample_rate}",
                                     description=f"speech at {self._sample_rate} Hz")
    super().__init__(config=config, file_format="array_record", **kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description=("Telephone prompts of six professional speakers in five languages (Debian "
                     "asterisk packages) and FSDD's six English speakers, one split per speaker."),
        features=tfds.features.FeaturesDict({
            "audio": tfds.features.Tensor(shape=(None,), dtype=np.int16),
            "speaker": tfds.features.Text(),
            "language": tfds.features.Text(),
            "source": tfds.features.Text(),
            "file": tfds.features.Text(),
        }),
        metadata=tfds.core.MetadataDict())

  def _split_generators(self, dl_manager):
    del dl_manager  # Local files only.
    files = corpus_files(self._asterisk_root, self._fsdd_dir)
    self.info.metadata["fingerprint"] = fingerprint(files)
    self.info.metadata["skipped"] = []
    return {name: self._generate_examples(name, paths) for name, paths in files.items()}

  def _generate_examples(self, name, paths):
    speaker = next((s for s in SPEAKERS if s.name == name), None)
    language, source = (speaker.language, speaker.package) if speaker else ("en", "fsdd")
    # A few packaged prompts hold no samples: skipped, and listed in the metadata.
    loaded, skipped = audio_io.read_many(paths, self._sample_rate, True, f"{name} recordings")
    self.info.metadata["skipped"] += [os.path.basename(p) for p in skipped]
    top = os.path.commonpath([os.path.dirname(p) for p in paths])
    for path, wave in loaded:
      rel = os.path.relpath(path, top)
      yield f"{name}/{rel}", {"audio": audio_io.to_int16(wave), "speaker": name,
                              "language": language, "source": source, "file": rel}


def load_speakers(data_dir: str, sample_rate: int = 8000, asterisk_root: str = ASTERISK_ROOT,
                  fsdd_dir: str = "") -> dict[str, list[np.ndarray]]:
  """Prepares the corpus once (under `data_dir`) and returns `{speaker: [int16 [T_i]]}` in file
  order. ValueError when the prepared corpus was built from other files than are here now."""
  builder = SpeechCorpusBuilder(asterisk_root=asterisk_root, fsdd_dir=fsdd_dir,
                                sample_rate=sample_rate, data_dir=data_dir)
  builder.download_and_prepare()
  built = (builder.info.metadata or {}).get("fingerprint")
  current = fingerprint(corpus_files(asterisk_root, fsdd_dir or fsdd.default_source_dir()))
  if built and built != current:
    raise ValueError(f"The prepared speech corpus {builder.data_dir} was built from other files "
                     f"than {asterisk_root} and the FSDD directory hold now; delete "
                     f"{builder.data_dir} to rebuild it.")
  out = {}
  for name, source in builder.as_data_source().items():
    rows = sorted(source.__getitems__(list(range(len(source)))), key=lambda r: _text(r["file"]))
    out[name] = [np.asarray(r["audio"], np.int16) for r in rows]
  return out


def _text(value) -> str:
  return value.decode() if isinstance(value, bytes) else str(value)
