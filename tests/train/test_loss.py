"""The generic training loss: a task's unweighted terms weighted by config.loss.terms."""

import jax.numpy as jnp
import numpy as np
import pytest

from gcnet.train import loss as loss_lib


class _FakeTask:
  """Terms a = 2, b = 3 and a task loss of 1; records the names it was asked for."""

  term_names = ("a", "b", "needs_stats")

  def __init__(self):
    self.asked = None

  def terms_fn(self, names):
    self.asked = names
    if "needs_stats" in names:
      raise ValueError("no statistics")

    def fn(params, model_state, batch, rng):
      values = {"a": jnp.float32(2.0), "b": jnp.float32(3.0)}
      return jnp.float32(1.0), {n: values[n] for n in names}, {"accuracy": 0.5}, model_state
    return fn


def test_loss_is_the_task_loss_plus_the_weighted_terms_and_zero_weights_are_not_computed():
  task = _FakeTask()
  loss_fn = loss_lib.make_loss_fn(task, {"a": 0.5, "b": 2.0, "needs_stats": 0.0})
  assert task.asked == ("a", "b")   # weight 0: not asked for, so it needs no statistics
  loss, (metrics, state) = loss_fn({}, {"ema": 1}, {}, None)
  np.testing.assert_allclose(loss, 1.0 + 0.5 * 2.0 + 2.0 * 3.0)
  assert metrics == {"accuracy": 0.5, "term/a": 2.0, "term/b": 3.0, "loss": 8.0}
  assert state == {"ema": 1}


def test_unknown_and_missing_terms_are_named():
  with pytest.raises(ValueError, match=r"Unknown loss terms \['c'\].*\['a', 'b', 'needs_stats'\]"):
    loss_lib.make_loss_fn(_FakeTask(), {"a": 1.0, "c": 0.0})
  with pytest.raises(ValueError, match=r"no value for the loss terms \['b'\]"):
    loss_lib.weighted_sum(0.0, {"a": 1.0}, {"a": 1.0, "b": 1.0})


def test_ramp_is_zero_then_linear_then_one():
  progress = jnp.array([0.0, 0.2, 0.3, 0.5, 0.7, 1.0])
  np.testing.assert_allclose(loss_lib.ramp(progress, 0.3, 0.7), [0, 0, 0, 0.5, 1, 1], atol=1e-6)
  # end <= start: a step at start.
  np.testing.assert_array_equal(loss_lib.ramp(progress, 0.5, 0.5), [0, 0, 0, 1, 1, 1])


def test_ramped_terms_follow_the_batch_step_and_others_keep_their_weight():
  import ml_collections as mlc  # pylint: disable=g-import-not-at-top
  ramp = mlc.ConfigDict({"terms": ("b",), "start": 0.2, "end": 0.6})
  loss_fn = loss_lib.make_loss_fn(_FakeTask(), {"a": 0.5, "b": 2.0}, ramp, num_steps=10)
  for step, scale in ((1, 0.0), (4, 0.5), (9, 1.0)):
    loss, (metrics, _) = loss_fn({}, {}, {"step": jnp.int32(step)}, None)
    np.testing.assert_allclose(loss, 1.0 + 0.5 * 2.0 + 2.0 * scale * 3.0, rtol=1e-6)
    assert metrics["term/b"] == 3.0 and metrics["scale/b"] == pytest.approx(scale)
    assert "scale/a" not in metrics            # reported unscaled, and only when scheduled
  loss, (metrics, _) = loss_fn({}, {}, {}, None)   # no step (e.g. evaluation): full weights
  np.testing.assert_allclose(loss, 8.0)
  assert "scale/b" not in metrics
  with pytest.raises(ValueError, match=r"ramp.terms lists unknown loss terms \['c'\]"):
    loss_lib.make_loss_fn(_FakeTask(), {"a": 0.5}, mlc.ConfigDict({"terms": ("c",), "start": 0.0,
                                                                  "end": 1.0}))


def test_a_ramped_term_of_weight_zero_stays_off():
  import ml_collections as mlc  # pylint: disable=g-import-not-at-top
  ramp = mlc.ConfigDict({"terms": ("b",), "start": 0.0, "end": 1.0})
  loss_fn = loss_lib.make_loss_fn(_FakeTask(), {"a": 0.5, "b": 0.0}, ramp, num_steps=10)
  loss, (metrics, _) = loss_fn({}, {}, {"step": jnp.int32(5)}, None)
  np.testing.assert_allclose(loss, 2.0)
  assert "term/b" not in metrics and "scale/b" not in metrics
