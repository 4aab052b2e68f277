"""The workdir's `config.json`: written at the start, checked on restart."""

import json
import os

import jax


def config_to_dict(config) -> dict:
  return json.loads(config.to_json_best_effort())


def check_or_write_config(config, workdir: str) -> None:
  """Writes `workdir/config.json`, or checks that a restarted run is the same experiment.

  Raises:
    ValueError: the workdir holds a run of a different experiment or model.
  """
  path = os.path.join(workdir, "config.json")
  current = config_to_dict(config)
  if os.path.exists(path):
    with open(path) as f:
      previous = json.load(f)
    for key in ("experiment", "model", "data"):
      if previous.get(key) != current.get(key):
        raise ValueError(
            f"Workdir {workdir} holds a run with a different {key!r} ({previous.get(key)!r}, now "
            f"{current.get(key)!r}). Use a new --workdir, or delete the old run to start over.")
  if jax.process_index() == 0:
    os.makedirs(workdir, exist_ok=True)
    with open(path, "w") as f:
      json.dump(current, f, indent=2, sort_keys=True)
