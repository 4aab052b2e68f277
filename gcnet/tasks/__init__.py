"""Tasks: one kind of training each (its data, model, loss terms, periodic evaluation and report),
chosen by `config.loss.task` and handed to `gcnet.train.loop.train_and_evaluate`.

    task = get_task(config)        # imports only the chosen task's module
    loop.train_and_evaluate(config, workdir, task)

The contract is `gcnet.train.task.Task`. `config.loss.task` is a key of `TASKS` (default
"classification"), or `"module.path:Class"` of your own task, built as `Class(config)`.
"""

from gcnet import catalog

TASKS = {
    "classification": "gcnet.tasks.classification:ClassificationTask",
    "codec": "gcnet.tasks.codec:CodecTask",
}
DEFAULT_TASK = "classification"


def task_name(config) -> str:
  """The name of the task `config` trains: `config.loss.task`, default "classification". It is
  the kind of the run (stored in the run's config, read by every tool: `gcnet.runtime.load_run`)."""
  return str((config.get("loss") or {}).get("task", DEFAULT_TASK))


def task_class(name: str) -> type:
  """The task class of `name` (imports its module only).

  Raises:
    ValueError: an unknown task, naming the known ones.
  """
  return catalog.resolve(TASKS, name, "task")


def get_task(config):
  """The task named `config.loss.task` (default "classification"), built from `config`.

  Raises:
    ValueError: an unknown task, naming the known ones.
  """
  return task_class(task_name(config))(config)
