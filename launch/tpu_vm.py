"""Runs one experiment on a Cloud TPU VM (one host or a pod slice) through gcloud.

  python -m launch.tpu_vm --name=gcnet-v5e --zone=us-west4-a --accelerator_type=v5litepod-16 \
      --runtime_version=v2-alpha-tpuv5-lite --config=experiments/fashion_mnist_gc.py \
      --workdir=gs://BUCKET/runs/fmnist_gc --data_dir=gs://BUCKET/tfds [--create] [--dry-run] \
      [-- --config.train.num_steps=2000]

Steps: reuse the TPU VM if `describe` finds it, else create it (only with --create); pack this
checkout (tracked and untracked-but-not-ignored files) and copy it to every worker; install it
there with `jax[tpu]`; optionally upload prepared TFDS data to the bucket; run
`python3 -m gcnet.cli.train` on all workers at once. On the workers GCNET_DISTRIBUTED=auto makes
`gcnet.train.distributed.initialize()` call `jax.distributed.initialize()`, which finds the other
workers through the TPU metadata server. `--dry-run` prints the exact commands only.
"""

import argparse
import shlex
import subprocess
import sys
from typing import Optional, Sequence

from launch import common

REMOTE_ARCHIVE = "gcnet-src.tgz"


def _gcloud(args, verb: str, *rest: str, name: bool = True) -> list:
  """`gcloud compute tpus tpu-vm VERB [NAME] REST --zone=Z [--project=P]`."""
  cmd = ["gcloud", "compute", "tpus", "tpu-vm", verb, *([args.name] if name else []), *rest,
         f"--zone={args.zone}"]
  if args.project:
    cmd.append(f"--project={args.project}")
  return cmd


def _ssh(args, remote: str) -> list:
  return _gcloud(args, "ssh", "--worker=all", f"--command={remote}")


def local_archive(args) -> str:
  return f"/tmp/gcnet-src-{args.name}.tgz"


def remote_train_command(args, extra: Sequence[str]) -> str:
  """The shell command every worker runs."""
  env = ["GCNET_DISTRIBUTED=auto"]
  if args.data_dir:
    env.append(f"TFDS_DATA_DIR={args.data_dir}")
  train = common.shell_join(env + common.main_command(args.config, args.workdir, extra,
                                                      python="python3"))
  if args.background:
    # Detached from the ssh session; each worker's output goes to ~/gcnet-train.log.
    return f"cd {args.remote_dir} && nohup env {train} > ~/gcnet-train.log 2>&1 < /dev/null &"
  return f"cd {args.remote_dir} && env {train}"


def remote_install_command(args) -> str:
  packages = [".", "jax[tpu]"]
  if any(p.startswith("gs://") for p in (args.workdir, args.data_dir or "")):
    packages.append("gcsfs")   # TFDS / etils read and write gs:// paths through it
  d = args.remote_dir
  return (f"set -e; mkdir -p {d}; tar -xzf ~/{REMOTE_ARCHIVE} -C {d}; cd {d}; "
          f"python3 -m pip install -q -U pip; "
          f"python3 -m pip install -q -e {common.shell_join(packages)}")


def steps(args, extra: Sequence[str]) -> list:
  """`(comment, argv)` of every step after the TPU VM exists, in order."""
  repo = shlex.quote(str(common.REPO_ROOT))
  archive = local_archive(args)
  pack = (f"git -C {repo} ls-files -z --cached --others --exclude-standard | "
          f"tar -czf {shlex.quote(archive)} --ignore-failed-read -C {repo} --null -T -")
  out = []
  if not args.skip_install:
    out += [("Pack this checkout", ["bash", "-c", pack]),
            ("Copy it to every worker", _gcloud(args, "scp", archive,
                                                f"{args.name}:~/{REMOTE_ARCHIVE}",
                                                "--worker=all", name=False)),
            ("Install it with jax[tpu] on every worker", _ssh(args, remote_install_command(args)))]
  if args.upload_data_from:
    out.append(("Upload prepared TFDS data to the bucket",
                ["gcloud", "storage", "rsync", "--recursive", args.upload_data_from,
                 args.data_dir]))
  out.append(("Train on all workers", _ssh(args, remote_train_command(args, extra))))
  return out


def create_command(args) -> list:
  cmd = _gcloud(args, "create", f"--accelerator-type={args.accelerator_type}",
                f"--version={args.runtime_version}")
  if args.spot:
    cmd.append("--spot")
  return cmd


def print_plan(args, extra: Sequence[str], out=None):
  out = out or sys.stdout
  out.write("# Reuse the TPU VM if this succeeds:\n")
  out.write(common.shell_join(_gcloud(args, "describe")) + "\n")
  if args.create:
    out.write("# Otherwise create it:\n")
    out.write(common.shell_join(create_command(args)) + "\n")
  for comment, cmd in steps(args, extra):
    out.write(f"# {comment}:\n{common.shell_join(cmd)}\n")


def execute(args, extra: Sequence[str]) -> int:
  exists = subprocess.run(_gcloud(args, "describe"), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0
  if exists:
    print(f"# Reusing TPU VM {args.name}.", flush=True)
  elif args.create:
    subprocess.run(create_command(args), check=True)
  else:
    print(f"TPU VM {args.name} not found in {args.zone}; pass --create to create it.",
          file=sys.stderr)
    return 1
  for comment, cmd in steps(args, extra):
    print(f"# {comment}:\n{common.shell_join(cmd)}", flush=True)
    status = subprocess.run(cmd, check=False).returncode
    if status:
      return status
  return 0


def parse(argv: Optional[Sequence[str]] = None):
  parser = argparse.ArgumentParser(prog="python -m launch.tpu_vm", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--name", required=True, help="TPU VM name")
  parser.add_argument("--zone", required=True)
  parser.add_argument("--project", default=None)
  parser.add_argument("--accelerator_type", default="v5litepod-8")
  parser.add_argument("--runtime_version", default="v2-alpha-tpuv5-lite")
  parser.add_argument("--create", action="store_true", help="create the TPU VM if missing")
  parser.add_argument("--spot", action="store_true", help="create it as a Spot VM")
  parser.add_argument("--config", required=True, help="experiment file[:arg], repo-relative")
  parser.add_argument("--workdir", required=True,
                      help="gs:// path shared by all workers (pod slices)")
  parser.add_argument("--data_dir", default=None, help="TFDS_DATA_DIR on the workers (gs://)")
  parser.add_argument("--upload_data_from", default=None,
                      help="local prepared TFDS directory to rsync to --data_dir first")
  parser.add_argument("--remote_dir", default="~/gcnet", help="checkout on the workers")
  parser.add_argument("--skip_install", action="store_true", help="code is already there")
  parser.add_argument("--background", action="store_true",
                      help="detach training from the ssh session (log: ~/gcnet-train.log)")
  parser.add_argument("--dry-run", "--dry_run", dest="dry_run", action="store_true",
                      help="print the commands only")
  args, extra = common.parse_args(parser, argv)
  if not args.workdir.startswith("gs://"):
    print(f"WARNING: --workdir={args.workdir} is on each worker's own disk; only a single-host "
          "TPU VM can use that. Pod slices need a gs:// workdir.", file=sys.stderr)
  if args.upload_data_from and not args.data_dir:
    parser.error("--upload_data_from needs --data_dir.")
  return args, extra


def main(argv: Optional[Sequence[str]] = None) -> int:
  args, extra = parse(argv)
  if args.dry_run:
    print_plan(args, extra)
    return 0
  return execute(args, extra)


if __name__ == "__main__":
  sys.exit(main())
