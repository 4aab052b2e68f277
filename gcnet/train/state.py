"""Train state and optimizer (Optax) built from the config."""

from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
  """Everything a training step reads and writes; saved whole in checkpoints.

  step: scalar int32.
  params: the model's "params" collection.
  opt_state: Optax state.
  model_state: other mutable collections carried across steps (e.g. codebook EMA); `{}` for most.
  skipped_steps: scalar int32, updates skipped for a non-finite loss or gradient.
  """

  step: jax.Array
  params: Any
  opt_state: Any
  model_state: Any
  skipped_steps: jax.Array


def make_schedule(train_config) -> optax.Schedule:
  lr, warmup, total = train_config.learning_rate, train_config.warmup_steps, train_config.num_steps
  if train_config.schedule == "constant":
    return optax.join_schedules([optax.linear_schedule(0.0, lr, max(warmup, 1)),
                                 optax.constant_schedule(lr)], [max(warmup, 1)])
  if train_config.schedule == "cosine":
    return optax.warmup_cosine_decay_schedule(0.0, lr, max(warmup, 1), max(total, warmup + 1),
                                              end_value=lr * 0.01)
  raise ValueError(f"Unknown schedule {train_config.schedule!r}; use 'cosine' or 'constant'.")


def make_optimizer(train_config) -> optax.GradientTransformation:
  schedule = make_schedule(train_config)
  if train_config.optimizer == "adamw":
    opt = optax.adamw(schedule, weight_decay=train_config.weight_decay)
  elif train_config.optimizer == "sgd":
    opt = optax.sgd(schedule, momentum=0.9)
  else:
    raise ValueError(f"Unknown optimizer {train_config.optimizer!r}; use 'adamw' or 'sgd'.")
  if train_config.grad_clip_norm:
    opt = optax.chain(optax.clip_by_global_norm(train_config.grad_clip_norm), opt)
  return opt


def create_state(variables: dict, optimizer: optax.GradientTransformation) -> TrainState:
  """Builds the initial state from variables `{"params": ..., **model_state}` (`Task.init_variables`:
  every collection other than "params" is carried as `model_state`)."""
  params = variables["params"]
  model_state = {k: v for k, v in variables.items() if k != "params"}
  return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=optimizer.init(params),
                    model_state=model_state, skipped_steps=jnp.zeros((), jnp.int32))
