"""Threshold sweep of a trained GC run: tables and plots of stop rate, recall, accuracy and FLOPs.

  python -m gcnet.cli.sweep_theta --workdir=runs/fmnist_gc [--output=DIR] [--target_recall=0.99]

Writes threshold_sweep.{csv,md,json}, threshold_sweep_recall.png and threshold_sweep_compute.png
into --output (default: the run directory). Theta is chosen on validation; numbers are on test.
"""

from absl import flags

from gcnet.cli import common


def define_flags():
  flags.DEFINE_string("workdir", None, "A trained run's directory (the --workdir it was trained in).")
  flags.DEFINE_string("output", "", "Where to write the tables and plots ('': the run directory).")
  flags.DEFINE_float("target_recall", None, "Validation positive recall of the chosen theta "
                     "(default: config.eval.target_recall).")
  flags.DEFINE_list("thetas", [], "Explicit theta grid (default: "
                    "gcnet.eval.threshold_sweep.default_thetas()).")
  flags.DEFINE_integer("batch_size", 0, "Evaluation batch size (0: config.eval.batch_size).")
  flags.DEFINE_float("table_step", 0.05, "Markdown table: thetas that are multiples of this, and "
                     "all within it of 0 or 1 (0: every row; the CSV and JSON have every row).")
  flags.mark_flags_as_required(["workdir"])


def main(argv):
  del argv
  from gcnet.runtime import threshold_report  # pylint: disable=g-import-not-at-top  (JAX late)
  f = flags.FLAGS
  result = threshold_report.sweep_run(f.workdir, f.output, f.target_recall,
                                      [float(t) for t in f.thetas], f.batch_size, f.table_step)
  c = result["chosen"]
  print(f"theta chosen on validation for recall >= {result['target_recall']:g}: "
        f"{', '.join(f'{t:.4g}' for t in c['thetas'])}; test: stop rate {c['stop_rate']:.4f}, "
        f"positive recall {c['positive_recall']:.4f}, accuracy {c['accuracy']:.4f}, "
        f"expected FLOPs {c['expected_flops']:.4g} ({c['saving_ratio']:.2f}x less than ungated)")
  print("wrote " + ", ".join(result["files"]))
  return 0


if __name__ == "__main__":
  common.run_tool(define_flags, main)
