"""Pieces shared by the launchers: argument splitting, the training command, device env vars."""

import argparse
import os
import pathlib
import re
import shlex
import sys
from typing import Mapping, Optional, Sequence

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_MAIN_MODULE = "gcnet.cli.train"
_DEVICE_COUNT_FLAG = "--xla_force_host_platform_device_count"


def parse_args(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]]):
  """Parses the launcher's own flags; returns `(args, extra)`.

  `extra` are the flags passed through to `gcnet.cli.train`: everything after a bare `--`, plus any
  `--config.x.y=value` override given before it.
  """
  argv = list(sys.argv[1:] if argv is None else argv)
  extra = []
  if "--" in argv:
    i = argv.index("--")
    argv, extra = argv[:i], argv[i + 1:]
  args, unknown = parser.parse_known_args(argv)
  bad = [a for a in unknown if not a.startswith("--config.")]
  if bad:
    parser.error(f"unrecognized arguments: {' '.join(bad)} (flags for gcnet.cli.train go after "
                 "`--`; write overrides as --config.x=value)")
  return args, unknown + extra


def main_command(config: str, workdir: str, extra: Sequence[str] = (),
                 main_module: str = DEFAULT_MAIN_MODULE, python: str = sys.executable) -> list:
  """`python -m gcnet.cli.train --config=... --workdir=... <extra>` as an argv list."""
  return [python, "-m", main_module, f"--config={config}", f"--workdir={workdir}", *extra]


def device_env(devices: Optional[int], base: Optional[Mapping[str, str]] = None,
               **overrides: str) -> dict:
  """The environment for a child process; with `devices`, a CPU-only JAX with that many devices.

  The device count must be in XLA_FLAGS before JAX is imported, so it goes into the child
  process's environment (replacing any count already there). The repository root is put on
  PYTHONPATH so that `gcnet` and `experiments` import from any working directory.
  """
  env = dict(os.environ if base is None else base)
  paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
  if str(REPO_ROOT) not in paths:
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT)] + paths)
  if devices:
    flags = re.sub(_DEVICE_COUNT_FLAG + r"=\S*", "", env.get("XLA_FLAGS", "")).split()
    env["XLA_FLAGS"] = " ".join(flags + [f"{_DEVICE_COUNT_FLAG}={int(devices)}"])
    env["JAX_PLATFORMS"] = "cpu"
  env.update(overrides)
  return env


def shell_join(argv: Sequence[str]) -> str:
  """A command line that a POSIX shell splits back into exactly `argv`."""
  return shlex.join([str(a) for a in argv])


def config_path(config: str) -> str:
  """The file part of `path/to/experiment.py:arg`."""
  return config.split(":", 1)[0]
