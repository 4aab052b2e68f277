"""Encoding and decoding audio files with a trained codec run, with hard routing.

    report = code_file("runs/codec_dsl", "in.wav", "out.wav")   # what `gcnet.cli.codec` runs

The input (any sample rate, mono or multichannel, averaged to mono) is resampled to the codec's rate,
coded (DSL codecs run each segment through only its chosen decoder, `StagedCodec`), resampled back
to the input's rate and written as 16-bit PCM. The report gives each segment's route, the light
fraction, the bitrate, the SI-SDR and multi-scale mel distance of the output against the input, and
PESQ, STOI, mel distance and SI-SDR on the input's speech-active and quiet parts
(`gcnet.audio.stream_quality`; level threshold `activity.file_threshold_db`: -40 dBFS, or 20 dB
under the loudest 20 ms frame of a quieter file).
"""

import json

import numpy as np

from gcnet.audio import activity
from gcnet.audio import quality
from gcnet.audio import audio_io
from gcnet.audio import stream_quality
from gcnet.models.codec import bitrate, code_wave
from gcnet.runtime.load import load_run


def code_file(workdir: str, input_path: str, output_path: str, report_path: str = "",
              n_q: int | None = None) -> dict:
  """Codes `input_path` into `output_path` with the run in `workdir`; returns the report dict.

  Raises:
    gcnet.runtime.load.WrongRunKind: `workdir` is not a codec run.
  """
  import soundfile  # pylint: disable=g-import-not-at-top  (optional dependency)
  run = load_run(workdir, with_dataset=False, kinds=("codec",), tool="gcnet.cli.codec")
  model, variables, step = run.model, run.variables, run.step
  wave, rate = audio_io.read_audio(input_path)
  coded, heavy = code_wave(model, variables, audio_io.resample(wave, rate, model.sample_rate), n_q)
  out = audio_io.resample(coded, model.sample_rate, rate)[:wave.shape[0]]
  out = np.pad(out, (0, wave.shape[0] - out.shape[0]))
  soundfile.write(output_path, audio_io.to_int16(out), rate, subtype="PCM_16")
  written = audio_io.from_int16(audio_io.to_int16(out))
  segment_s = model.segment_samples / model.sample_rate
  report = {
      "workdir": run.workdir, "step": step, "input": input_path, "output": output_path,
      "input_sample_rate": rate, "codec_sample_rate": model.sample_rate,
      "seconds": wave.shape[0] / rate, "pathway": model.pathway,
      "bitrate_bps": bitrate(model, n_q),
      "si_sdr": float(quality.si_sdr(wave, written)),
      "mel_distance": float(quality.mel_distance(wave, written, rate)[0]),
      "segment_seconds": segment_s,
      **stream_quality.stream_quality(wave, written, rate,
                                      activity.file_threshold_db(wave, rate)),
  }
  if heavy is not None:
    report["light_fraction"] = float(1.0 - heavy.mean())
    report["routes"] = ["heavy" if h else "light" for h in heavy]
  else:
    report["light_fraction"] = 1.0 if model.pathway == "light" else 0.0
  if report_path:
    with open(report_path, "w") as f:
      json.dump(report, f, indent=2)
  return report

