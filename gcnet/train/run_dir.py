"""THE layout of a run directory: the one place that names its files.

    WORKDIR/config.json          the resolved config (a restart with another experiment is an error)
    WORKDIR/checkpoints/<step>/  Orbax checkpoints: items "state" (train state) and "data_iter"
    WORKDIR/metrics.jsonl        one JSON object per logged step (train and eval)
    WORKDIR/tb/                  TensorBoard events (if tensorboardX is installed)
    WORKDIR/report.json          the final evaluation report

Every module that reads or writes a run directory (training, the tasks' reports, `load_run`,
launchers, benchmarks) takes the paths and the readers here; a test checks that no other module
spells these names.
"""

import json

import jax
import ml_collections as mlc
from etils import epath

CONFIG_FILE = "config.json"
REPORT_FILE = "report.json"
METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tb"
CHECKPOINT_DIR = "checkpoints"
STATE_ITEM = "state"
DATA_ITER_ITEM = "data_iter"
# The config keys a restarted run must share with the run already in the directory.
_SAME_RUN_KEYS = ("experiment", "model", "data")


def resolve(workdir) -> epath.Path:
  """`workdir` as an absolute path (Orbax needs one); URLs such as gs:// are kept as they are."""
  return epath.Path(workdir) if "://" in str(workdir) else epath.Path(workdir).resolve()


def config_path(workdir) -> epath.Path:
  return epath.Path(workdir) / CONFIG_FILE


def report_path(workdir) -> epath.Path:
  """`workdir/report.json`; a path that already names a `.json` file is kept as it is."""
  return epath.Path(workdir) if str(workdir).endswith(".json") else epath.Path(workdir) / REPORT_FILE


def metrics_path(workdir) -> epath.Path:
  return epath.Path(workdir) / METRICS_FILE


def tensorboard_dir(workdir) -> epath.Path:
  return epath.Path(workdir) / TENSORBOARD_DIR


def checkpoint_dir(workdir) -> epath.Path:
  return epath.Path(workdir) / CHECKPOINT_DIR


def state_path(workdir, step: int) -> epath.Path:
  """The train state item of the checkpoint at `step`."""
  return checkpoint_dir(workdir) / str(step) / STATE_ITEM


def config_to_dict(config) -> dict:
  """A `ConfigDict` as the plain dict that `config.json` stores."""
  return json.loads(config.to_json_best_effort())


def read_config(workdir) -> mlc.ConfigDict:
  """The `ConfigDict` stored in `workdir/config.json`.

  Raises:
    FileNotFoundError: `workdir` holds no `config.json` (not a gcnet run directory).
  """
  path = config_path(workdir)
  if not path.exists():
    raise FileNotFoundError(f"{path} does not exist: {workdir} is not a gcnet run directory "
                            "(python -m gcnet.cli.train --workdir=... writes it).")
  return mlc.ConfigDict(json.loads(path.read_text()))


def check_or_write_config(config, workdir) -> None:
  """Writes `workdir/config.json` (process 0), or checks that a restarted run is the same one.

  Raises:
    ValueError: the workdir holds a run of a different experiment, model or data.
  """
  path = config_path(workdir)
  current = config_to_dict(config)
  if path.exists():
    previous = json.loads(path.read_text())
    for key in _SAME_RUN_KEYS:
      if previous.get(key) != current.get(key):
        raise ValueError(
            f"Workdir {workdir} holds a run with a different {key!r} ({previous.get(key)!r}, now "
            f"{current.get(key)!r}). Use a new --workdir, or delete the old run to start over.")
  if jax.process_index() == 0:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2, sort_keys=True))


def has_report(workdir) -> bool:
  """Whether the run has finished: its report exists."""
  return report_path(workdir).exists()


def read_report(workdir) -> dict:
  """The report of a run (`workdir` or a report file's path).

  Raises:
    OSError, ValueError: no report, or one that does not parse.
  """
  return json.loads(report_path(workdir).read_text())


def write_report(workdir, report: dict, report_file: str = REPORT_FILE) -> epath.Path:
  """Writes `report` as JSON at `workdir/report_file` and returns the path (callers write on
  process 0 only)."""
  path = epath.Path(workdir) / report_file
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(report, indent=2, sort_keys=True))
  return path


def read_metrics(workdir) -> list[dict]:
  """The rows of `workdir/metrics.jsonl`, in the order they were logged."""
  return [json.loads(line) for line in metrics_path(workdir).read_text().splitlines() if line]
