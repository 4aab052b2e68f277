"""Runs one experiment as N processes on this machine that form one JAX distributed runtime.

  python -m launch.multiprocess --num_processes=2 --devices_per_process=2 \
      --config=experiments/fashion_mnist_gc.py:runlocal --workdir=/tmp/fm_mp [-- overrides]

Each process gets GCNET_COORDINATOR_ADDRESS (127.0.0.1 and a free port), GCNET_NUM_PROCESSES and
GCNET_PROCESS_ID, which `gcnet.train.distributed.initialize()` turns into
`jax.distributed.initialize(...)` with gloo collectives on CPU: the same code path as one process
per host on a TPU pod or GPU cluster. Output lines are prefixed with `[pI]`. If a process fails,
the others are stopped and the launcher exits with the failing status.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Mapping, Optional, Sequence, TextIO

from launch import common

# Read by gcnet.train.distributed.initialize() (not imported here, to keep JAX out of the launcher).
ENV_COORDINATOR = "GCNET_COORDINATOR_ADDRESS"
ENV_NUM_PROCESSES = "GCNET_NUM_PROCESSES"
ENV_PROCESS_ID = "GCNET_PROCESS_ID"


def free_port() -> int:
  """A TCP port on the loopback interface that is free right now."""
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def process_envs(num_processes: int, devices_per_process: Optional[int], port: int,
                 base: Optional[Mapping[str, str]] = None) -> list:
  """The environment of each process."""
  return [common.device_env(devices_per_process, base, **{
      ENV_COORDINATOR: f"127.0.0.1:{port}",
      ENV_NUM_PROCESSES: str(num_processes),
      ENV_PROCESS_ID: str(i),
  }) for i in range(num_processes)]


def _pump(stream, prefix: str, out: TextIO, lock: threading.Lock):
  for line in iter(stream.readline, ""):
    with lock:
      out.write(prefix + line)
      out.flush()
  stream.close()


def _stop(procs: Sequence[subprocess.Popen], grace_s: float = 10.0):
  """SIGTERM to each still-running process group, then SIGKILL after `grace_s`."""
  for p in procs:
    if p.poll() is None:
      os.killpg(p.pid, signal.SIGTERM)
  deadline = time.monotonic() + grace_s
  for p in procs:
    try:
      p.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
      os.killpg(p.pid, signal.SIGKILL)
      p.wait()


def launch_processes(command: Sequence[str], num_processes: int,
                     devices_per_process: Optional[int] = None,
                     env: Optional[Mapping[str, str]] = None, out: Optional[TextIO] = None,
                     timeout_s: Optional[float] = None) -> int:
  """Starts `command` `num_processes` times as one distributed job; returns an exit status.

  Args:
    command: the argv of every process (e.g. `common.main_command(...)`).
    num_processes: how many processes.
    devices_per_process: simulated CPU devices per process; None keeps the real devices.
    env: base environment (default: this process's).
    out: where the prefixed output lines go.
    timeout_s: stop all processes after this many seconds (status 124).

  Returns:
    0 if every process exited with 0, else the status of the first process that failed
    (or 124 on timeout).
  """
  out = out or sys.stdout
  envs = process_envs(num_processes, devices_per_process, free_port(), env)
  lock = threading.Lock()
  procs, pumps = [], []
  try:
    for i, e in enumerate(envs):
      # Own session per process so that stopping it also stops its children (data workers).
      p = subprocess.Popen(list(command), env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
      procs.append(p)
      t = threading.Thread(target=_pump, args=(p.stdout, f"[p{i}] ", out, lock), daemon=True)
      t.start()
      pumps.append(t)
    status, start = 0, time.monotonic()
    while any(p.poll() is None for p in procs):
      failed = [p for p in procs if p.poll() not in (None, 0)]
      if failed:
        status = failed[0].returncode
        break
      if timeout_s is not None and time.monotonic() - start > timeout_s:
        status = 124
        break
      time.sleep(0.1)
    else:
      status = next((p.returncode for p in procs if p.returncode != 0), 0)
  finally:
    _stop(procs)
    for t in pumps:
      t.join(timeout=5)
  if status:
    with lock:
      codes = ", ".join(f"p{i}={p.returncode}" for i, p in enumerate(procs))
      out.write(f"[launch.multiprocess] failed with status {status} ({codes})\n")
  return status


def main(argv: Optional[Sequence[str]] = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m launch.multiprocess", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--num_processes", type=int, default=2)
  parser.add_argument("--devices_per_process", type=int, default=None,
                      help="simulated CPU devices per process (default: the real devices)")
  parser.add_argument("--config", required=True, help="experiment file[:arg]")
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--main_module", default=common.DEFAULT_MAIN_MODULE)
  args, extra = common.parse_args(parser, argv)
  cmd = common.main_command(args.config, args.workdir, extra, args.main_module)
  return launch_processes(cmd, args.num_processes, args.devices_per_process)


if __name__ == "__main__":
  sys.exit(main())
