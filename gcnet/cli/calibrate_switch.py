"""Chooses a DSL codec's switch threshold on validation and writes the calibrated parameters.

  python -m gcnet.cli.calibrate_switch --workdir=RUN --output=weights/codec_dsl
      [--split=validation] [--max_seconds=0] [--light_fractions=1,0.9,0.8,...]
      [--pesq_tolerance=0.1] [--mel_tolerance=0.05] [--min_light_fraction=0.8]

Prints the sweep (switch against random routing at each light fraction) and writes `--output` as
a weights directory (`gcnet.runtime.weights`) whose switch routes at the chosen light fraction,
with the sweep in its `weights.json`. How the choice is made: gcnet/tasks/codec_calibrate.py.
"""

from absl import flags

from gcnet.cli import common


def define_flags():
  flags.DEFINE_string("workdir", None, "A trained DSL codec run (or weights directory).")
  flags.DEFINE_string("output", None, "New weights directory for the calibrated codec.")
  flags.DEFINE_string("split", "validation", "Split to calibrate on (never the test split).")
  flags.DEFINE_float("max_seconds", 0.0, "Use the first this many seconds of the split (0: all).")
  flags.DEFINE_list("light_fractions", [], "Candidate light fractions (default: "
                    "codec_calibrate.DEFAULT_LIGHT_FRACTIONS); heavy-only is always added.")
  flags.DEFINE_float("pesq_tolerance", 0.1, "Largest speech PESQ drop from heavy-only.")
  flags.DEFINE_float("mel_tolerance", 0.05, "Largest relative speech mel distance increase.")
  flags.DEFINE_float("min_light_fraction", 0.8, "When no candidate is within the tolerances: the "
                     "best PESQ among those at least this light.")
  flags.mark_flags_as_required(["workdir", "output"])


def main(argv):
  del argv
  from gcnet.runtime.load import load_run  # pylint: disable=g-import-not-at-top  (JAX late)
  from gcnet.runtime.weights import save_weights  # pylint: disable=g-import-not-at-top
  from gcnet.tasks import codec_calibrate as cc  # pylint: disable=g-import-not-at-top
  f = flags.FLAGS
  if f.split.startswith("test"):
    raise ValueError(f"--split={f.split}: calibrate on validation; the test split is for the "
                     "report only.")
  run = load_run(f.workdir, kinds=("codec",), tool="gcnet.cli.calibrate_switch")
  if run.dataset is None:
    raise FileNotFoundError(f"The data of {run.workdir} is not available here "
                            f"(config.data.name={run.config.data.name!r}).")
  fractions = [float(x) for x in f.light_fractions] or cc.DEFAULT_LIGHT_FRACTIONS
  result = cc.calibrate(run, f.split, f.max_seconds, fractions, f.pesq_tolerance,
                        f.mel_tolerance, f.min_light_fraction)
  print(f"{f.split}: {result['seconds']:.0f} s, {result['segments']} segments; speech quality "
        f"by light fraction:")
  print(cc.format_rows(result["rows"]))
  c = result["chosen"]
  verdict = ("within the tolerances" if c["meets_tolerance"] else
             "no candidate within the tolerances: best PESQ at >= "
             f"{f.min_light_fraction:g} light")
  print(f"chosen: light fraction {c['light_fraction']:.2f} (threshold {c['threshold']:.3f}), "
        f"{verdict}")
  calibration = {k: result[k] for k in ("split", "seconds", "segments", "rows", "chosen",
                                        "tolerances")}
  summary = save_weights(f.workdir, f.output, params=result["params"],
                         record={"switch_calibration": calibration})
  print(f"wrote {summary['output']} (step {summary['step']})")
  return 0


if __name__ == "__main__":
  common.run_tool(define_flags, main)
