"""Device mesh and shardings. Data parallel over a `data` axis; parameters replicated.

The same code runs on one CPU, on 8 simulated devices, on several processes and on a TPU pod slice or
a GPU cluster: only `config.mesh` and the launcher change.
"""

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"


def make_mesh(mesh_config) -> Mesh:
  """A 1-D mesh over `mesh_config.data` devices (-1: all devices of all processes)."""
  num = jax.device_count() if mesh_config.data == -1 else int(mesh_config.data)
  if num < 1 or num > jax.device_count():
    raise ValueError(f"config.mesh.data={mesh_config.data} but {jax.device_count()} devices exist; "
                     "use -1 for all devices or a number between 1 and the device count.")
  if num != jax.device_count() and jax.process_count() > 1:
    raise ValueError("With several processes the data axis must span all devices: "
                     "set --config.mesh.data=-1.")
  devices = jax.devices()[:num]
  return jax.make_mesh((num,), (DATA_AXIS,), axis_types=(AxisType.Auto,), devices=devices)


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  """Leading (batch) axis split over the data axis."""
  return NamedSharding(mesh, P(DATA_AXIS))


def check_batch_size(global_batch_size: int, mesh: Mesh) -> None:
  devices = mesh.shape[DATA_AXIS]
  if global_batch_size % devices or global_batch_size % jax.process_count():
    raise ValueError(f"Global batch size {global_batch_size} must be divisible by the {devices} "
                     f"devices of the data axis and the {jax.process_count()} processes; "
                     "change --config.train.batch_size.")


def make_global_batch(local_batch: dict, mesh: Mesh) -> dict:
  """Per-process NumPy batch -> global `jax.Array`s sharded over the data axis."""
  sharding = batch_sharded(mesh)
  return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v))
          for k, v in local_batch.items()}


def stacked_batch_sharded(mesh: Mesh) -> NamedSharding:
  """`[k, batch, ...]` stacks of batches: the batch axis (the second) split over the data axis."""
  return NamedSharding(mesh, P(None, DATA_AXIS))


def make_global_batches(local_batches: list[dict], mesh: Mesh) -> dict:
  """`k` per-process NumPy batches -> global `jax.Array`s `[k, batch, ...]`, stacked on a new leading
  axis and sharded over the data axis on the second (the input of a `steps_per_call = k` step)."""
  sharding = stacked_batch_sharded(mesh)
  return {k: jax.make_array_from_process_local_data(
              sharding, np.stack([np.asarray(b[k]) for b in local_batches]))
          for k in local_batches[0]}
