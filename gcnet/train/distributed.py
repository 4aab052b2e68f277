"""Joins JAX's multi-process runtime when the process was started as one of several.

`initialize()` must run before anything touches a JAX backend (no `jax.devices()`, no arrays):
it is the first thing `gcnet.cli.train` does. It picks one of these, in order:

1. `GCNET_COORDINATOR_ADDRESS`, `GCNET_NUM_PROCESSES`, `GCNET_PROCESS_ID`: set by our launchers
   (`launch.multiprocess`, or by hand on any set of hosts). Explicit arguments to
   `jax.distributed.initialize`.
2. `GCNET_DISTRIBUTED=auto`: `jax.distributed.initialize()` with no arguments, which lets JAX
   detect the cluster (Cloud TPU VM pod slices through the metadata server, GKE TPU, SLURM, Open
   MPI, Kubernetes). `launch.tpu_vm` sets it. `GCNET_DISTRIBUTED=off` forces one process.
3. A SLURM step with more than one task (`srun`): JAX's SLURM detection (coordinator on the first
   node, process id from `SLURM_PROCID`, one local GPU per task from `SLURM_LOCALID` unless
   `JAX_LOCAL_DEVICE_IDS` lists them).
4. An Open MPI job (`mpirun -n N` with N > 1): JAX's Open MPI detection.
5. Otherwise a single process: nothing to do.

Cross-process collectives on CPU go through gloo; that choice is read when the CPU backend is
created, hence the `jax.config.update` before `jax.distributed.initialize`.
"""

import dataclasses
import logging
import os
from typing import Mapping, Optional

import jax

ENV_COORDINATOR = "GCNET_COORDINATOR_ADDRESS"
ENV_NUM_PROCESSES = "GCNET_NUM_PROCESSES"
ENV_PROCESS_ID = "GCNET_PROCESS_ID"
ENV_MODE = "GCNET_DISTRIBUTED"

# The variables JAX's SLURM detection reads (jax/_src/clusters/slurm_cluster.py).
_SLURM_VARS = ("SLURM_JOB_ID", "SLURM_STEP_NODELIST", "SLURM_NTASKS", "SLURM_PROCID",
               "SLURM_LOCALID")


@dataclasses.dataclass(frozen=True)
class Plan:
  """How this process joins (or not) a multi-process runtime.

  Attributes:
    mode: "single", "explicit" (GCNET_* variables), "auto" (JAX detects the cluster), "slurm" or
      "ompi" (JAX's detection of that cluster type).
    coordinator_address: "host:port" for "explicit", else None (JAX finds it).
    num_processes: known process count, or None when JAX detects it.
    process_id: known process id, or None when JAX detects it.
  """
  mode: str
  coordinator_address: Optional[str] = None
  num_processes: Optional[int] = None
  process_id: Optional[int] = None


def plan(env: Optional[Mapping[str, str]] = None) -> Plan:
  """Decides from environment variables alone how to initialise; starts nothing."""
  env = os.environ if env is None else env
  mode = env.get(ENV_MODE, "").strip().lower()
  if mode in ("off", "0", "false", "single"):
    return Plan("single")
  if env.get(ENV_COORDINATOR):
    missing = [k for k in (ENV_NUM_PROCESSES, ENV_PROCESS_ID) if not env.get(k)]
    if missing:
      raise ValueError(f"{ENV_COORDINATOR} is set but {', '.join(missing)} is not.")
    num, pid = int(env[ENV_NUM_PROCESSES]), int(env[ENV_PROCESS_ID])
    if not 0 <= pid < num:
      raise ValueError(f"{ENV_PROCESS_ID}={pid} is not in [0, {ENV_NUM_PROCESSES}={num}).")
    return Plan("explicit", env[ENV_COORDINATOR], num, pid)
  if mode in ("auto", "1", "true", "on"):
    return Plan("auto")
  if mode:
    raise ValueError(f"{ENV_MODE}={env[ENV_MODE]!r}: use 'auto' or 'off'.")
  if all(k in env for k in _SLURM_VARS):
    # Inside the batch script itself SLURM_NTASKS counts the job's tasks although only one
    # process runs; SLURM_STEP_NUM_TASKS (set by srun) counts the processes of this step.
    tasks = int(env.get("SLURM_STEP_NUM_TASKS", env["SLURM_NTASKS"]))
    if tasks > 1:
      return Plan("slurm", None, tasks, int(env["SLURM_PROCID"]))
  if int(env.get("OMPI_COMM_WORLD_SIZE", "1")) > 1:
    return Plan("ompi", None, int(env["OMPI_COMM_WORLD_SIZE"]),
                int(env.get("OMPI_COMM_WORLD_RANK", "0")))
  return Plan("single")


def initialize(initialization_timeout: int = 300) -> Plan:
  """Joins the multi-process runtime this process belongs to; a no-op for a single process.

  Call it once, first thing, before any JAX computation or `jax.devices()`.

  Args:
    initialization_timeout: seconds to wait for all processes to connect.

  Returns:
    The `Plan` that was carried out.
  """
  p = plan()
  if p.mode == "single" or jax.distributed.is_initialized():
    return p
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  if p.mode == "explicit":
    jax.distributed.initialize(coordinator_address=p.coordinator_address,
                               num_processes=p.num_processes, process_id=p.process_id,
                               initialization_timeout=initialization_timeout)
  elif p.mode == "auto":
    jax.distributed.initialize(initialization_timeout=initialization_timeout)
  else:
    jax.distributed.initialize(cluster_detection_method=p.mode,
                               initialization_timeout=initialization_timeout)
  # Logged from the plan: asking JAX for the process index would start the backend here.
  logging.info("Joined the JAX distributed runtime (%s): process %s of %s.", p.mode,
               "?" if p.process_id is None else p.process_id,
               "?" if p.num_processes is None else p.num_processes)
  return p
