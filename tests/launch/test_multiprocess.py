"""launch.multiprocess: N local processes form one JAX runtime; a failure stops them all."""

import io
import sys
import textwrap

from gcnet.train import distributed
from launch import multiprocess

# Each process contributes its two local rows [2i, 2i+1] to a global array over 4 devices.
_PSUM_SCRIPT = textwrap.dedent("""
    from gcnet.train import distributed
    plan = distributed.initialize(initialization_timeout=60)
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import AxisType, NamedSharding, PartitionSpec as P
    mesh = jax.make_mesh((jax.device_count(),), ("data",), axis_types=(AxisType.Auto,))
    i = jax.process_index()
    local = np.arange(2 * i, 2 * i + 2, dtype=np.float32)
    x = jax.make_array_from_process_local_data(NamedSharding(mesh, P("data")), local)
    total = jax.jit(jnp.sum, out_shardings=NamedSharding(mesh, P()))(x)
    print("RESULT", plan.mode, jax.process_index(), jax.process_count(), jax.device_count(),
          jax.local_device_count(), float(total), flush=True)
    jax.distributed.shutdown()
""")


def test_env_names_match_distributed():
  assert multiprocess.ENV_COORDINATOR == distributed.ENV_COORDINATOR
  assert multiprocess.ENV_NUM_PROCESSES == distributed.ENV_NUM_PROCESSES
  assert multiprocess.ENV_PROCESS_ID == distributed.ENV_PROCESS_ID


def test_process_envs():
  base = {"XLA_FLAGS": "--xla_force_host_platform_device_count=8 --foo"}
  envs = multiprocess.process_envs(3, 2, 1234, base=base)
  assert [e["GCNET_PROCESS_ID"] for e in envs] == ["0", "1", "2"]
  for e in envs:
    assert e["GCNET_COORDINATOR_ADDRESS"] == "127.0.0.1:1234"
    assert e["GCNET_NUM_PROCESSES"] == "3"
    assert e["XLA_FLAGS"].split() == ["--foo", "--xla_force_host_platform_device_count=2"]
    assert e["JAX_PLATFORMS"] == "cpu"


def test_two_processes_form_one_runtime(tmp_path):
  script = tmp_path / "psum.py"
  script.write_text(_PSUM_SCRIPT)
  out = io.StringIO()
  status = multiprocess.launch_processes([sys.executable, str(script)], num_processes=2,
                                         devices_per_process=2, out=out, timeout_s=240)
  log = out.getvalue()
  assert status == 0, log
  results = sorted(line.split("RESULT ", 1)[1].split() for line in log.splitlines()
                   if "RESULT" in line)
  # mode, process index, process count, global devices, local devices, global sum 0+1+2+3.
  assert results == [["explicit", "0", "2", "4", "2", "6.0"],
                     ["explicit", "1", "2", "4", "2", "6.0"]], log
  assert any(line.startswith("[p0] ") for line in log.splitlines())
  assert any(line.startswith("[p1] ") for line in log.splitlines())


def test_failure_stops_the_other_processes():
  # Process 1 fails at once; process 0 would sleep for a minute if it were not stopped.
  code = ("import os, sys, time\n"
          "if os.environ['GCNET_PROCESS_ID'] == '1': sys.exit(3)\n"
          "time.sleep(60)\n")
  out = io.StringIO()
  status = multiprocess.launch_processes([sys.executable, "-c", code], num_processes=2, out=out,
                                         timeout_s=30)
  assert status == 3, out.getvalue()
  assert "failed with status 3" in out.getvalue()
