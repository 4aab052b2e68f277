"""Runs one experiment in one process on this machine.

  python -m launch.local --config=experiments/fashion_mnist_gc.py:runlocal --workdir=/tmp/fm \
      [--devices=8] [-- --config.train.num_steps=50]

With `--devices=N` JAX runs on N simulated CPU devices (the same mesh code paths as N
accelerators); without it, on the machine's real devices.
"""

import argparse
import subprocess
import sys
from typing import Optional, Sequence

from launch import common


def run_local(config: str, workdir: str, extra: Sequence[str] = (), devices: Optional[int] = None,
              main_module: str = common.DEFAULT_MAIN_MODULE, dry_run: bool = False) -> int:
  """Runs `python -m <main_module>` in a child process; returns its exit status."""
  cmd = common.main_command(config, workdir, extra, main_module)
  env = common.device_env(devices)
  if dry_run:
    prefix = ""
    if devices:
      prefix = common.shell_join([f"JAX_PLATFORMS={env['JAX_PLATFORMS']}",
                                  f"XLA_FLAGS={env['XLA_FLAGS']}"]) + " "
    print(prefix + common.shell_join(cmd))
    return 0
  return subprocess.run(cmd, env=env, check=False).returncode


def main(argv: Optional[Sequence[str]] = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m launch.local", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--config", required=True, help="experiment file[:arg]")
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--devices", type=int, default=None,
                      help="simulated CPU devices (default: the real devices)")
  parser.add_argument("--main_module", default=common.DEFAULT_MAIN_MODULE)
  parser.add_argument("--dry-run", "--dry_run", dest="dry_run", action="store_true",
                      help="print the command only")
  args, extra = common.parse_args(parser, argv)
  return run_local(args.config, args.workdir, extra, args.devices, args.main_module,
                   args.dry_run)


if __name__ == "__main__":
  sys.exit(main())
