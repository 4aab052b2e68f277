"""The workdir's `config.json`: written at the start, checked on restart."""

import json

import jax
from etils import epath


def config_to_dict(config) -> dict:
  return json.loads(config.to_json_best_effort())


def check_or_write_config(config, workdir) -> None:
  """Writes `workdir/config.json`, or checks that a restarted run is the same experiment.

  Raises:
    ValueError: the workdir holds a run of a different experiment or model.
  """
  path = epath.Path(workdir) / "config.json"
  current = config_to_dict(config)
  if path.exists():
    previous = json.loads(path.read_text())
    for key in ("experiment", "model", "data"):
      if previous.get(key) != current.get(key):
        raise ValueError(
            f"Workdir {workdir} holds a run with a different {key!r} ({previous.get(key)!r}, now "
            f"{current.get(key)!r}). Use a new --workdir, or delete the old run to start over.")
  if jax.process_index() == 0:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2, sort_keys=True))
