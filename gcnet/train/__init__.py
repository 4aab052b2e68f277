"""Training of any task: mesh and shardings, train state, weighted loss, jitted step, loop,
checkpoints, metric writers, multi-process start-up. The task (`gcnet.train.task.Task`) is given."""
