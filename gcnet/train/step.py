"""The jitted training step with explicit shardings and a donated state: one step per call, or
`n` steps per call (a device-side loop over a stack of `n` batches, `config.train.steps_per_call`)."""

import jax
import jax.numpy as jnp
import optax

from gcnet.train import mesh as mesh_lib
from gcnet.train.state import TrainState


def _all_finite(tree) -> jax.Array:
  leaves = jax.tree_util.tree_leaves(tree)
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else True


def step_fn(loss_fn, optimizer: optax.GradientTransformation):
  """The pure (unjitted) `step(state, batch, rng) -> (state, metrics)`.

  A non-finite loss or gradient leaves the state unchanged (params, optimizer and model state), counts
  the step in `skipped_steps` and reports `metrics["finite"] = 0`; the loop decides whether that is an
  error (config.train.nonfinite="error") or tolerated ("skip").
  """

  def step(state: TrainState, batch: dict, rng: jax.Array):
    rng = jax.random.fold_in(rng, state.step)
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    # The loss sees the step before this update as batch["step"] (loss-weight schedules).
    batch = dict(batch, step=state.step)
    (loss, (metrics, new_model_state)), grads = grad_fn(state.params, state.model_state, batch, rng)
    updates, new_opt_state = optimizer.update(grads, state.opt_state, state.params)
    new_params = optax.apply_updates(state.params, updates)
    finite = jnp.isfinite(loss) & _all_finite(grads)
    keep = lambda new, old: jax.tree.map(lambda n, o: jnp.where(finite, n, o), new, old)
    new_state = state.replace(
        step=state.step + 1,
        params=keep(new_params, state.params),
        opt_state=keep(new_opt_state, state.opt_state),
        model_state=keep(new_model_state, state.model_state),
        skipped_steps=state.skipped_steps + (~finite).astype(jnp.int32))
    metrics = dict(metrics, grad_norm=optax.tree.norm(grads), finite=finite.astype(jnp.float32))
    return new_state, metrics

  return step


def make_train_step(loss_fn, optimizer: optax.GradientTransformation, mesh, state: TrainState):
  """Returns `step(state, batch, rng) -> (state, metrics)`, jitted over `mesh`.

  Args:
    loss_fn: `(params, model_state, batch, rng) -> (loss, (metrics, new_model_state))`.
    optimizer: Optax transformation.
    mesh: the device mesh; the batch `{k: [B, ...]}` is split over its data axis, the state
      replicated.
    state: an example state (for its tree structure).
  Returns:
    The jitted step; `metrics` are scalars. The state argument is donated.
  """
  replicated = mesh_lib.replicated(mesh)
  state_sharding = jax.tree.map(lambda _: replicated, state)
  return jax.jit(step_fn(loss_fn, optimizer),
                 in_shardings=(state_sharding, mesh_lib.batch_sharded(mesh), replicated),
                 out_shardings=(state_sharding, replicated), donate_argnums=(0,))


def make_multi_train_step(loss_fn, optimizer: optax.GradientTransformation, mesh,
                          state: TrainState, *, unroll: bool = True):
  """Returns `steps(state, batches, rng) -> (state, metrics)`: `n` steps in one jitted call.

  `batches` is a stack `{k: [n, B, ...]}` of `n` global batches (`mesh_lib.make_global_batches`),
  split over the data axis on its second axis. Each step is `step_fn` (the step of
  `make_train_step`: same random key per step, same skipping of non-finite updates).

  Args:
    unroll: True (the loop's choice): the `n` steps unrolled into one program (`jax.lax.scan` with
      `unroll=True`, one compilation per `n`). XLA fuses across the steps, so parameters equal
      those of `n` one-step calls up to float32 rounding (about 1e-7 relative per step), not bit
      for bit. False: a device-side loop whose trip count is a runtime argument, so XLA compiles
      the same loop body for every `n` and `n` steps in one call are bit-identical to `n` one-step
      calls of this function; but XLA's CPU backend runs a loop body of this kind of step 20-30x
      slower than the same step outside a loop (measured: docs/benchmarks.md), so it is for
      accelerators.
  Returns:
    The jitted function (state donated); `metrics` are stacked `[n]`, one row per step.
  """
  step = step_fn(loss_fn, optimizer)

  def unrolled(state: TrainState, batches: dict, rng: jax.Array):
    return jax.lax.scan(lambda s, b: step(s, b, rng), state, batches, unroll=True)

  def rolled(state: TrainState, batches: dict, count: jax.Array, rng: jax.Array):
    take = lambda i: jax.tree.map(lambda x: jax.lax.dynamic_index_in_dim(x, i, keepdims=False),
                                  batches)
    n = jax.tree.leaves(batches)[0].shape[0]
    row = jax.eval_shape(step, state, take(0), rng)[1]
    rows = jax.tree.map(lambda m: jnp.zeros((n,) + m.shape, m.dtype), row)

    def body(i, carry):
      state, rows = carry
      state, metrics = step(state, take(i), rng)
      return state, jax.tree.map(lambda r, m: r.at[i].set(m), rows, metrics)

    return jax.lax.fori_loop(0, count, body, (state, rows))

  replicated = mesh_lib.replicated(mesh)
  state_sharding = jax.tree.map(lambda _: replicated, state)
  stacked = mesh_lib.stacked_batch_sharded(mesh)
  if unroll:
    return jax.jit(unrolled, in_shardings=(state_sharding, stacked, replicated),
                   out_shardings=(state_sharding, replicated), donate_argnums=(0,))
  jitted = jax.jit(rolled, in_shardings=(state_sharding, stacked, replicated, replicated),
                   out_shardings=(state_sharding, replicated), donate_argnums=(0,))

  def call(state: TrainState, batches: dict, rng: jax.Array):
    count = jnp.asarray(jax.tree.leaves(batches)[0].shape[0], jnp.int32)
    return jitted(state, batches, count, rng)

  return call
