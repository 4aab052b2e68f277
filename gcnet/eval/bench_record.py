"""A benchmark's JSON record: its rows plus what makes them comparable later (command, load,
versions, machine), written where `--out` says.

    record = bench_record.record(rows=rows, peak_flops=peak)
    bench_record.write(args.out, record)       # "" writes nothing
"""

import json
import os
import platform
import sys


def record(**fields) -> dict:
  """`fields` with the command line, the 1/5/15-minute load, JAX / Flax versions and the machine."""
  import flax  # pylint: disable=g-import-not-at-top  (benchmarks import JAX after pinning CPUs)
  import jax  # pylint: disable=g-import-not-at-top
  return {"command": " ".join(sys.argv), **fields, "load_average": os.getloadavg(),
          "jax": jax.__version__, "flax": flax.__version__,
          "machine": platform.processor() or platform.machine(),
          "backend": jax.default_backend(), "device": jax.devices()[0].device_kind}


def write(path: str, result: dict) -> None:
  """Writes `result` as indented JSON to `path` (its folder made); nothing for an empty path."""
  if not path:
    return
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w") as f:
    json.dump(result, f, indent=2)
