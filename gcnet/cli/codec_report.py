"""(Re)writes the report of a codec run, or tabulates several.

  python -m gcnet.cli.codec_report --workdir=RUN [--max_seconds=60] [--baseline_workdir=HEAVY]
  python -m gcnet.cli.codec_report --summary=RUN1,RUN2,... [--plot=quality.png]
      [--spectrograms=spec.png] [--loss_curves=loss.png]

What the report holds: gcnet/tasks/codec_report.py.
"""

from absl import flags

from gcnet.cli import common


def define_flags():
  from gcnet.train import run_dir  # pylint: disable=g-import-not-at-top  (JAX late)
  flags.DEFINE_string("workdir", None, "A codec run's workdir.")
  flags.DEFINE_integer("step", None, "Checkpoint step to evaluate (default: the latest).")
  flags.DEFINE_float("max_seconds", None, "Override config.eval.max_seconds (0: whole split).")
  flags.DEFINE_float("timing_seconds", None, "Override config.eval.timing_seconds.")
  flags.DEFINE_string("baseline_workdir", "", "A heavy-only run's workdir to compare against.")
  flags.DEFINE_string("report_file", run_dir.REPORT_FILE, "File name of the report in the workdir.")
  flags.DEFINE_string("summary", "", "Comma-separated workdirs or report files: print a table.")
  flags.DEFINE_string("plot", "", "With --summary: write a PNG of quality vs light fraction.")
  flags.DEFINE_string("spectrograms", "", "With --summary: a PNG of one test utterance's log-mel "
                      "spectrogram through each run (DSL routes marked).")
  flags.DEFINE_string("loss_curves", "", "With --summary: a PNG of the runs' training curves.")


def main(argv):
  del argv
  from gcnet.tasks import codec_report  # pylint: disable=g-import-not-at-top  (JAX late)
  from gcnet.runtime.load import load_run  # pylint: disable=g-import-not-at-top
  f = flags.FLAGS
  if f.summary:
    runs = f.summary.split(",")
    print(codec_report.summarize(runs, f.plot))
    from gcnet.tasks import codec_figures  # pylint: disable=g-import-not-at-top
    if f.spectrograms:
      loaded = [load_run(w, kinds=("codec",), tool="gcnet.cli.codec_report --spectrograms",
                         with_dataset=i == 0) for i, w in enumerate(runs)]
      shown = codec_figures.spectrogram_figure(loaded, f.spectrograms)
      print(f"spectrograms of {shown['seconds']:.1f} s from {shown['start_s']:.2f} s of the test "
            f"stream: {', '.join(shown['rows'])} -> {f.spectrograms}")
    if f.loss_curves:
      codec_figures.loss_curves_figure(runs, f.loss_curves)
      print(f"loss curves -> {f.loss_curves}")
    return 0
  if not f.workdir:
    raise ValueError("Pass --workdir=RUN (a codec run) or --summary=RUN1,RUN2,...")
  run = load_run(f.workdir, step=f.step, kinds=("codec",), tool="gcnet.cli.codec_report")
  if run.dataset is None:
    raise FileNotFoundError(f"The data of {run.workdir} is not available here "
                            f"(config.data.name={run.config.data.name!r}).")
  for name in ("max_seconds", "timing_seconds", "baseline_workdir"):
    value = getattr(f, name)
    if value not in (None, ""):
      run.config.eval[name] = value
  codec_report.write_codec_report(run.config, run.workdir, run.model, run.params, run.model_state,
                                  run.dataset, run.step, f.report_file)
  return 0


if __name__ == "__main__":
  common.run_tool(define_flags, main)
