"""Figures of codec runs: spectrograms of one test utterance through each codec, and loss curves.

    python -m gcnet.cli.codec_report --spectrograms=spec.png --summary=HEAVY,LIGHT,DSL
    python -m gcnet.cli.codec_report --loss_curves=loss.png --summary=HEAVY,LIGHT,DSL

`spectrogram_figure` picks the `seconds`-long stretch of the first run's test stream with the most
speech-active samples (`gcnet.audio.activity`), codes it with every run (DSL runs hard-routed, each
segment through its chosen decoder) and draws the log-mel spectrograms one above the other, the DSL
rows with their heavy segments marked. `loss_curves_figure` draws each run's training loss and
reconstruction terms from its `metrics.jsonl`.
"""


import numpy as np
from etils import epath

from gcnet.audio import activity
from gcnet.audio.mel import log_mel_spectrogram
from gcnet.models.codec import code_wave
from gcnet.train import run_dir

CURVES = ("train/loss", "train/term/mel", "train/term/waveform_l1")


def speech_window(stream: np.ndarray, sample_rate: int, seconds: float) -> int:
  """Start sample of the `seconds` window of `stream [T]` holding the most active samples."""
  size = int(seconds * sample_rate)
  active = activity.active_mask(stream, sample_rate).astype(np.float64)
  counts = np.convolve(active, np.ones(size), mode="valid")
  return int(np.argmax(counts))


def _plt():
  import matplotlib  # pylint: disable=g-import-not-at-top  (optional dependency)
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def spectrogram_figure(runs, path: str, seconds: float = 2.0) -> dict:
  """Writes the PNG at `path`; returns `{"start_s", "seconds", "rows": [name, ...]}`.

  Args:
    runs: loaded codec runs (`gcnet.runtime.load_run`), the first one with its dataset.
  """
  if runs[0].dataset is None:
    raise FileNotFoundError(f"The data of {runs[0].workdir} is not available here.")
  rate = runs[0].model.sample_rate
  stream = runs[0].dataset.streams["test"]
  start = speech_window(stream, rate, seconds)
  wave = stream[start:start + int(seconds * rate)]
  rows = [("input", wave, None, None)]
  for run in runs:
    recon, heavy = code_wave(run.model, run.variables, wave)
    name = f"{run.config.get('variant', '') or run.model.pathway}"
    rows.append((name, recon[:wave.shape[0]], heavy, run.model.segment_samples))
  plt = _plt()
  fig, axes = plt.subplots(len(rows), 1, figsize=(9, 1.9 * len(rows)), sharex=True)
  for ax, (name, x, heavy, segment) in zip(axes, rows):
    mel = np.asarray(log_mel_spectrogram(x, rate, n_fft=256, hop=64, num_mels=64))
    ax.imshow(mel.T, origin="lower", aspect="auto", cmap="magma", vmin=-12, vmax=mel.max(),
              extent=(0, x.shape[0] / rate, 0, mel.shape[1]))
    title = name
    if heavy is not None:
      for i in np.flatnonzero(heavy):
        ax.axvspan(i * segment / rate, (i + 1) * segment / rate, ymin=0.93, ymax=1.0,
                   color="cyan", lw=0)
      title += f"  (cyan: heavy segments, {100 * (1 - heavy.mean()):.0f}% light)"
    ax.set_title(title, fontsize=9, loc="left")
    ax.set_ylabel("mel band")
  axes[-1].set_xlabel(f"seconds (from {start / rate:.2f} s of the test stream)")
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  return {"start_s": start / rate, "seconds": seconds, "rows": [r[0] for r in rows]}


def read_curves(workdir) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """`{metric: (steps, values)}` of the `CURVES` logged in `workdir/metrics.jsonl`."""
  out = {k: ([], []) for k in CURVES}
  for row in run_dir.read_metrics(workdir):
    for k in CURVES:
      if k in row:
        out[k][0].append(row["step"])
        out[k][1].append(row[k])
  return {k: (np.asarray(s), np.asarray(v)) for k, (s, v) in out.items() if s}


def loss_curves_figure(workdirs, path: str, names=None) -> None:
  """Writes a PNG at `path` with one panel per curve, one line per run (log scale)."""
  plt = _plt()
  fig, axes = plt.subplots(1, len(CURVES), figsize=(4 * len(CURVES), 3.2))
  for i, w in enumerate(workdirs):
    label = names[i] if names else epath.Path(w).name
    curves = read_curves(w)
    for ax, key in zip(axes, CURVES):
      if key in curves:
        ax.plot(*curves[key], label=label, lw=1)
  for ax, key in zip(axes, CURVES):
    ax.set_title(key.split("/")[-1], fontsize=9)
    ax.set_xlabel("step")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
  axes[0].legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
