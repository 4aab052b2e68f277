"""Staged inference: the back runs only on passed samples, in buckets that compile once."""

import numpy as np
import pytest

from gcnet.runtime import StagedModel, StagedRunner


def _reference(model, params, images):
  logits, probs = StagedModel(model, params).compose(images)
  return np.asarray(logits), np.asarray(probs)


def test_back_runs_only_on_samples_the_gate_passed(gc_model):
  model, params, images = gc_model
  logits, probs = _reference(model, params, images)
  theta = float(np.median(probs[:, 0]))
  passed = probs[:, 0] >= theta
  assert 0 < passed.sum() < len(images)
  runner = StagedRunner(StagedModel(model, params), theta, max_batch=32)
  out = runner(images)

  assert runner.calls == [1, 1]
  assert runner.samples == [32, int(passed.sum())]
  np.testing.assert_array_equal(np.concatenate(runner.last_back_indices), np.flatnonzero(passed))
  assert runner.rows[1] == runner.buckets.pick(int(passed.sum()))
  np.testing.assert_array_equal(out.stopped_at, np.where(passed, 1, 0))
  assert np.isnan(out.logits[~passed]).all()
  np.testing.assert_allclose(out.logits[passed], logits[passed], rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(out.predictions[~passed], 3)
  np.testing.assert_array_equal(out.predictions[passed], np.argmax(logits[passed], -1))
  np.testing.assert_allclose(out.gate_probs[:, 0], probs[:, 0], rtol=1e-6, atol=1e-6)


def test_back_is_not_called_when_every_sample_is_stopped(gc_model):
  model, params, images = gc_model
  runner = StagedRunner(StagedModel(model, params), 1.01, max_batch=32)
  out = runner(images[:5])
  assert runner.calls == [1, 0] and runner.samples == [5, 0] and runner.traces[1] == 0
  np.testing.assert_array_equal(out.predictions, 3)
  assert out.logits.shape == (5, 4) and np.isnan(out.logits).all()


def test_two_gates_each_stage_runs_only_on_what_the_earlier_gates_passed(gc2_model):
  model, params, images = gc2_model
  logits, probs = _reference(model, params, images)
  thetas = np.median(probs, axis=0)
  pass0 = probs[:, 0] >= thetas[0]
  pass_both = pass0 & (probs[:, 1] >= thetas[1])
  assert 0 < pass_both.sum() < pass0.sum() < len(images)
  runner = StagedRunner(StagedModel(model, params), thetas, max_batch=8)   # 4 chunks of 8
  out = runner(images)
  assert runner.samples == [32, int(pass0.sum()), int(pass_both.sum())]
  np.testing.assert_array_equal(np.concatenate(runner.last_back_indices), np.flatnonzero(pass_both))
  np.testing.assert_array_equal(out.stopped_at, np.where(~pass0, 0, np.where(pass_both, 2, 1)))
  assert np.isnan(out.gate_probs[~pass0, 1]).all()
  np.testing.assert_allclose(out.gate_probs[pass0, 1], probs[pass0, 1], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(out.logits[pass_both], logits[pass_both], rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(out.predictions[~pass_both], 3)


def test_bucketed_compaction_does_not_recompile_across_pass_counts(gc_model):
  model, params, images = gc_model
  _, probs = _reference(model, params, images)
  batch = images[:16]
  ordered = np.sort(probs[:16, 0])[::-1]
  runner = StagedRunner(StagedModel(model, params), 0.5, max_batch=16)
  back = runner._later[1]  # pylint: disable=protected-access
  for count in range(1, 17):             # every pass count 1..16 in turn
    runner.thetas[:] = ordered[count - 1]
    runner(batch)
    assert runner.back_samples == sum(range(1, count + 1))
  assert runner.traces == [1, 5]          # front at 16; back at buckets 1, 2, 4, 8, 16
  assert back._cache_size() == 5  # pylint: disable=protected-access
  assert sorted(runner.bucket_calls[1]) == [1, 2, 4, 8, 16]
  for count in (3, 7, 11, 16, 5):         # new batches, any pass counts: nothing new compiles
    runner.thetas[:] = ordered[count - 1]
    runner(batch[::-1])
  assert runner.traces == [1, 5] and back._cache_size() == 5  # pylint: disable=protected-access


def test_batches_smaller_than_a_bucket_are_padded_not_recompiled(gc_model):
  model, params, images = gc_model
  runner = StagedRunner(StagedModel(model, params), 0.0, max_batch=8)
  for n in (5, 6, 7, 8):
    out = runner(images[:n])
    assert out.predictions.shape == (n,)
  assert runner.traces == [1, 1] and runner.rows == [32, 32] and runner.samples == [26, 26]


def test_empty_batch_is_an_error(gc_model):
  model, params, images = gc_model
  with pytest.raises(ValueError, match="empty"):
    StagedRunner(StagedModel(model, params), 0.5)(images[:0])


def test_run_one_streams_the_same_computation(gc_model):
  model, params, images = gc_model
  runner = StagedRunner(StagedModel(model, params), 0.0, max_batch=1)
  runner.thetas[:] = np.median(runner(images[:12]).gate_probs)
  batched = runner(images[:12])
  runner.reset_counts()
  results = [runner.run_one(image) for image in images[:12]]
  np.testing.assert_array_equal([r[0] for r in results], batched.predictions)
  np.testing.assert_array_equal([r[1] for r in results], batched.stopped_at)
  passed = batched.stopped_at == 1
  assert 0 < passed.sum() < 12
  assert runner.calls == [12, int(passed.sum())] and runner.samples == runner.calls
  assert all(r[2] is None for r, p in zip(results, passed) if not p)
  np.testing.assert_array_equal(np.stack([r[2] for r, p in zip(results, passed) if p]),
                                batched.logits[passed])
