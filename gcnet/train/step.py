"""One jitted training step with explicit shardings and a donated state."""

import jax
import jax.numpy as jnp
import optax

from gcnet.train import mesh as mesh_lib
from gcnet.train.state import TrainState


def _all_finite(tree) -> jax.Array:
  leaves = jax.tree_util.tree_leaves(tree)
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else True


def make_train_step(loss_fn, optimizer: optax.GradientTransformation, mesh, state: TrainState):
  """Returns `step(state, batch, rng) -> (state, metrics)`, jitted over `mesh`.

  A non-finite loss or gradient leaves the state unchanged (params, optimizer and model state), counts
  the step in `skipped_steps` and reports `metrics["finite"] = 0`; the loop decides whether that is an
  error (config.train.nonfinite="error") or tolerated ("skip").

  Args:
    loss_fn: `(params, model_state, batch, rng) -> (loss, (metrics, new_model_state))`.
    optimizer: Optax transformation.
    mesh: the device mesh; the batch is split over its data axis, the state replicated.
    state: an example state (for its tree structure).
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

  replicated = mesh_lib.replicated(mesh)
  state_sharding = jax.tree.map(lambda _: replicated, state)
  return jax.jit(step, in_shardings=(state_sharding, mesh_lib.batch_sharded(mesh), replicated),
                 out_shardings=(state_sharding, replicated), donate_argnums=(0,))
