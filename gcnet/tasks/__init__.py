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


def get_task(config):
  """The task named `config.loss.task` (default "classification"), built from `config`.

  Raises:
    ValueError: an unknown task, naming the known ones.
  """
  return catalog.resolve(TASKS, config.loss.get("task", DEFAULT_TASK), "task")(config)
