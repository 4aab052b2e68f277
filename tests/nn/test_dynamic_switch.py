"""DynamicSwitch: straight-through routing, windows, and staged inference that skips a pathway."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gcnet import ops
from gcnet.nn import DynamicSwitch
from gcnet.models.codec.staged import run_routed

SEG, CTX = 2, 1


class Toy(nn.Module):
  """A causal pathway `[N, W, D] -> [N, 2 W]`: dense to 2 outputs per frame, running sum in time."""

  @nn.compact
  def __call__(self, x):
    return jnp.cumsum(nn.Dense(2)(x), axis=1).reshape(x.shape[0], -1)


def _setup(bias=0.0):
  switch = DynamicSwitch(Toy(), Toy(), segment_frames=SEG, context_frames=CTX)
  h = jnp.asarray(np.random.RandomState(0).randn(3, 8, 4), jnp.float32)
  v = switch.init(jax.random.key(0), h)
  params = jax.tree.map(lambda a: a, v["params"])
  params["switch_out"]["kernel"] = 3.0 * params["switch_out"]["kernel"]
  params["switch_out"]["bias"] = jnp.full((1,), bias)
  return switch, {"params": params}, h


def test_windows_hold_left_context():
  switch, v, _ = _setup()
  h = jnp.arange(2 * 8, dtype=jnp.float32).reshape(1, 8, 2) + 1
  w = switch.apply(v, h, method="windows")
  assert w.shape == (4, CTX + SEG, 2)
  np.testing.assert_array_equal(w[0, :, 0], [0, 1, 3])  # Zero context before the start.
  np.testing.assert_array_equal(w[2, :, 0], [7, 9, 11])  # Frames 3, 4, 5 for segment 2.


def test_hard_forward_and_straight_through_gradient():
  switch, v, h = _setup()
  (y, r), cols = switch.apply(v, h, train=True, mutable=["gate"])
  stats = cols["gate"]["stats"][0]
  assert isinstance(stats, ops.SwitchStats) and stats.prob.shape == (3, 4)
  assert set(np.unique(r)) == {0.0, 1.0}
  np.testing.assert_array_equal(r, stats.heavy)
  windows = switch.apply(v, h, method="windows")
  heavy = switch.apply(v, windows, method="run_heavy").reshape(3, 4, -1)
  light = switch.apply(v, windows, method="run_light").reshape(3, 4, -1)
  np.testing.assert_allclose(y.reshape(3, 4, -1), np.where(r[..., None] > 0, heavy, light))

  def loss(params):
    return jnp.sum(switch.apply({"params": params}, h, train=True)[0] ** 2)
  grad = jax.grad(loss)(v["params"])["switch_out"]
  assert np.all(np.isfinite(grad["kernel"])) and np.abs(grad["kernel"]).sum() > 0
  assert abs(float(grad["bias"][0])) > 0

  (_, r_soft), _ = switch.apply(v, h, train=True, mode="soft", mutable=["gate"])
  np.testing.assert_allclose(r_soft, stats.prob)


def _counting(fn, log, name):
  def wrapped(x):
    log.append((name, x.shape[0]))
    return fn(x)
  return wrapped


def test_staged_runs_only_the_chosen_pathway_and_matches_training_output():
  switch, v, h = _setup()
  (y_train, r), _ = switch.apply(v, h, train=True, mutable=["gate"])
  heavy_fn = jax.jit(lambda x: switch.apply(v, x, method="run_heavy"))
  light_fn = jax.jit(lambda x: switch.apply(v, x, method="run_light"))
  log = []
  windows = switch.apply(v, h, method="windows")
  mask = np.asarray(r).reshape(-1) > 0
  out, counts = run_routed(windows, mask, _counting(heavy_fn, log, "heavy"),
                           _counting(light_fn, log, "light"))
  n_heavy = int(mask.sum())
  assert 0 < n_heavy < mask.size
  assert counts["heavy_segments"] == n_heavy and counts["light_segments"] == mask.size - n_heavy
  assert log == [("heavy", counts["heavy_rows"]), ("light", counts["light_rows"])]
  assert counts["heavy_rows"] < mask.size and counts["heavy_rows"] >= n_heavy
  np.testing.assert_allclose(out.reshape(y_train.shape), y_train, atol=1e-6)


def test_light_only_routing_never_runs_the_heavy_pathway():
  switch, v, h = _setup(bias=-100.0)
  calls = []

  def spy(next_fun, args, kwargs, context):
    if context.method_name == "__call__" and isinstance(context.module, Toy):
      calls.append(context.module.name)
    return next_fun(*args, **kwargs)

  windows = switch.apply(v, h, method="windows")
  mask = np.asarray(switch.apply(v, h, method="route")[1].heavy).reshape(-1) > 0
  assert not mask.any()
  with nn.intercept_methods(spy):  # Eager: every executed pathway call is seen.
    out, counts = run_routed(windows, mask, lambda x: switch.apply(v, x, method="run_heavy"),
                             lambda x: switch.apply(v, x, method="run_light"))
  assert calls == ["light"]
  assert counts["heavy_calls"] == 0 and counts["light_rows"] == 16
  y = switch.apply(v, h)[0]
  np.testing.assert_allclose(out.reshape(y.shape), y, atol=1e-6)


def test_force_runs_one_pathway():
  switch, v, h = _setup()
  calls = []

  def spy(next_fun, args, kwargs, context):
    if context.method_name == "__call__" and isinstance(context.module, Toy):
      calls.append(context.module.name)
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(spy):
    (_, r), cols = switch.apply(v, h, force="heavy", mutable=["gate"])
  assert calls == ["heavy"]
  np.testing.assert_array_equal(r, 1.0)
  np.testing.assert_array_equal(cols["gate"]["stats"][0].heavy, 1.0)
