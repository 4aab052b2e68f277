"""Writes and submits an sbatch script that runs one experiment on a SLURM GPU cluster.

  python -m launch.slurm --nodes=2 --gpus_per_node=8 --partition=gpu --time=04:00:00 \
      --config=experiments/fashion_mnist_gc.py --workdir=/shared/runs/fmnist_gc \
      [--processes=per_gpu|per_node] [--setup="source .venv/bin/activate"] [--dry-run] \
      [-- --config.train.num_steps=2000]

`srun` starts `python -m gcnet.cli.train` once per GPU (default) or once per node. In each task
`gcnet.train.distributed.initialize()` sees a multi-task SLURM step and calls
`jax.distributed.initialize()`, whose SLURM detection takes the coordinator (first node), the
process count and id from SLURM's variables, and in per-GPU mode the task's GPU from
SLURM_LOCALID. In per-node mode JAX_LOCAL_DEVICE_IDS gives each process all its node's GPUs.
The GPUs are requested per node and not bound per task, so that the local ids index them.
`--dry-run` prints the script instead of writing and submitting it.
"""

import argparse
import os
import subprocess
import sys
from typing import Optional, Sequence

from launch import common


def job_name(args) -> str:
  if args.job_name:
    return args.job_name
  base = os.path.splitext(os.path.basename(common.config_path(args.config)))[0]
  return f"gcnet-{base}"


def tasks_per_node(args) -> int:
  if args.gpus_per_node and args.processes == "per_gpu":
    return args.gpus_per_node
  return 1


def sbatch_script(args, extra: Sequence[str]) -> str:
  """The text of the sbatch script."""
  name = job_name(args)
  directives = [f"--job-name={name}", f"--nodes={args.nodes}",
                f"--ntasks-per-node={tasks_per_node(args)}"]
  if args.gpus_per_node:
    directives.append(f"--gpus-per-node={args.gpus_per_node}")
  for flag in ("cpus_per_task", "mem", "time", "partition", "account", "qos"):
    value = getattr(args, flag)
    if value:
      directives.append(f"--{flag.replace('_', '-')}={value}")
  directives.append(f"--output={os.path.join(os.path.abspath(args.log_dir), '%x-%j.out')}")
  directives += args.sbatch_arg
  lines = ["#!/bin/bash"] + [f"#SBATCH {d}" for d in directives]
  lines += ["# Written by `python -m launch.slurm`; see docs/launching.md.",
            "set -eo pipefail",
            f"cd {common.shell_join([str(common.REPO_ROOT)])}"]
  lines += list(args.setup)
  exports = {"PYTHONPATH": f"{common.REPO_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"}
  if args.data_dir:
    exports["TFDS_DATA_DIR"] = args.data_dir
  if args.gpus_per_node and args.processes == "per_node":
    exports["JAX_LOCAL_DEVICE_IDS"] = ",".join(str(i) for i in range(args.gpus_per_node))
  for key, value in exports.items():
    # Double quotes: PYTHONPATH's ${...} expands at run time.
    lines.append(f'export {key}="{value}"')
  train = common.main_command(args.config, args.workdir, extra, python=args.python)
  lines.append(common.shell_join(["srun", "--kill-on-bad-exit=1", *train]))
  return "\n".join(lines) + "\n"


def parse(argv: Optional[Sequence[str]] = None):
  parser = argparse.ArgumentParser(prog="python -m launch.slurm", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--nodes", type=int, default=1)
  parser.add_argument("--gpus_per_node", type=int, default=8, help="0: CPU-only nodes")
  parser.add_argument("--processes", choices=("per_gpu", "per_node"), default="per_gpu")
  parser.add_argument("--partition", default=None)
  parser.add_argument("--account", default=None)
  parser.add_argument("--qos", default=None)
  parser.add_argument("--time", default=None, help="wall-clock limit, e.g. 04:00:00")
  parser.add_argument("--cpus_per_task", type=int, default=None)
  parser.add_argument("--mem", default=None, help="memory per node, e.g. 200G")
  parser.add_argument("--sbatch_arg", action="append", default=[],
                      help="another #SBATCH directive, e.g. --sbatch_arg=--exclusive")
  parser.add_argument("--setup", action="append", default=[],
                      help="a shell line run before srun (module load, venv activation)")
  parser.add_argument("--job_name", default=None, help="default: gcnet-<experiment>")
  parser.add_argument("--log_dir", default=str(common.REPO_ROOT / "runs" / "slurm"),
                      help="where the script and the job's output go")
  parser.add_argument("--python", default="python", help="interpreter on the nodes")
  parser.add_argument("--config", required=True, help="experiment file[:arg]")
  parser.add_argument("--workdir", required=True, help="on a file system shared by the nodes")
  parser.add_argument("--data_dir", default=None, help="TFDS_DATA_DIR on the nodes")
  parser.add_argument("--dry-run", "--dry_run", dest="dry_run", action="store_true",
                      help="print the script only")
  return common.parse_args(parser, argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
  args, extra = parse(argv)
  script = sbatch_script(args, extra)
  if args.dry_run:
    sys.stdout.write(script)
    return 0
  os.makedirs(args.log_dir, exist_ok=True)
  path = os.path.join(args.log_dir, job_name(args) + ".sbatch")
  with open(path, "w") as f:
    f.write(script)
  print(f"Wrote {path}; submitting it.", flush=True)
  return subprocess.run(["sbatch", path], check=False).returncode


if __name__ == "__main__":
  sys.exit(main())
