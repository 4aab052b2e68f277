"""The DS-CNN keyword spotter and its log-mel frontend (gcnet.models.kws, audio_frontend)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import fsdd_kws_baseline
from experiments import fsdd_kws_gc
from gcnet import models
from gcnet.models.audio_frontend import LogMelFrontend
from gcnet.models.kws import KwsDSCNN

B, T = 3, 8000


@pytest.fixture(scope="module")
def waves():
  rng = np.random.default_rng(0)
  return jnp.asarray(0.1 * rng.standard_normal((B, T)), jnp.float32)


def _build(gated=True, **overrides):
  config = (fsdd_kws_gc if gated else fsdd_kws_baseline).get_config("runlocal")
  with config.unlocked():
    config.model.update(overrides)
  return models.build(config.model, num_classes=4)


def test_frontend_shapes_and_normalisation(waves):
  front = LogMelFrontend(sample_rate=8000, frame_ms=32.0, hop_ms=16.0, num_mels=40)
  feats = front.apply({}, waves)
  assert front.fft_size == 256 and front.num_frames(T) == 61
  assert feats.shape == (B, 61, 40) and feats.dtype == jnp.float32
  np.testing.assert_allclose(feats.mean(axis=(1, 2)), 0.0, atol=1e-4)
  np.testing.assert_allclose(feats.std(axis=(1, 2)), 1.0, atol=1e-3)
  assert front.init(jax.random.key(0), waves) == {}          # no parameters
  raw = LogMelFrontend(normalisation="none").apply({}, waves)
  fixed = LogMelFrontend(normalisation="fixed", mean=-5.0, std=2.0).apply({}, waves)
  np.testing.assert_allclose(fixed, (raw + 5.0) / 2.0, rtol=1e-5, atol=1e-5)
  # int16 input is rescaled to [-1, 1].
  as_int16 = jnp.round(waves * 32768).astype(jnp.int16)
  np.testing.assert_allclose(LogMelFrontend().apply({}, as_int16), feats, atol=5e-3)
  with pytest.raises(ValueError, match="normalisation"):
    LogMelFrontend(normalisation="global").apply({}, waves)


def test_gated_model_shapes_stages_and_stats(waves):
  model = _build()
  params = jax.jit(model.init)(jax.random.key(0), waves)["params"]
  logits, state = jax.jit(lambda p, x: model.apply({"params": p}, x, mutable=["gate"]))(
      params, waves)
  assert logits.shape == (B, 4) and logits.dtype == jnp.float32
  assert model.num_stages == 2
  stats = state["gate"]["gcs_0"]["stats"][0]
  assert stats.gate.prob.shape == (B,) and stats.compression.zero_fraction.shape == (B,)
  assert np.all((stats.gate.prob > 0) & (stats.gate.prob < 1))
  # Stage 0: frontend (49 frames of 40 ms every 20 ms) + first conv (stride 2) + DS block 0
  # (stride 2) -> GC: [B, 13, 10, 16].
  stage = jax.jit(lambda p, h, i: model.apply({"params": p}, h, i, method="run_stage"),
                  static_argnums=2)
  z, gate_prob = stage(params, waves, 0)
  assert z.shape == (B, 13, 10, 16) and gate_prob.shape == (B,)
  assert float(jnp.min(z)) >= 0.0 and float(jnp.mean(z == 0)) > 0.0  # exact zeros from GC
  np.testing.assert_allclose(gate_prob, stats.gate.prob, rtol=1e-6)
  staged, none = stage(params, z, 1)
  assert none is None
  np.testing.assert_allclose(staged, logits, rtol=1e-5, atol=1e-6)


def test_baseline_has_one_stage_and_sows_nothing(waves):
  model = _build(gated=False)
  params = model.init(jax.random.key(0), waves)["params"]
  assert model.num_stages == 1 and not any("gcs" in k for k in params)
  logits, state = model.apply({"params": params}, waves, mutable=["gate"])
  assert logits.shape == (B, 4) and not state.get("gate")
  staged, none = model.apply({"params": params}, waves, 0, method="run_stage")
  assert none is None
  np.testing.assert_allclose(staged, logits, rtol=1e-6)


def test_two_gc_layers_compose(waves):
  model = _build(gc_after=(0, 1))
  params = model.init(jax.random.key(1), waves)["params"]
  full, state = jax.jit(lambda p, x: model.apply({"params": p}, x, mutable=["gate"]))(params, waves)
  assert model.num_stages == 3 and set(state["gate"]) == {"gcs_0", "gcs_1"}
  h = waves
  for stage in range(3):
    h, prob = model.apply({"params": params}, h, stage, method="run_stage")
    assert (prob is None) == (stage == 2)
  np.testing.assert_allclose(h, full, rtol=1e-5, atol=1e-6)


def test_sizes_and_bad_arguments(waves):
  small = _build(size="small")
  params = jax.eval_shape(small.init, jax.random.key(0), waves[:1])["params"]
  n = sum(p.size for p in jax.tree.leaves(params))
  assert 15_000 < n < 50_000  # DS-CNN-S scale (tens of thousands), incl. the MLP gate
  with pytest.raises(ValueError, match="size"):
    _build(size="huge")
  with pytest.raises(ValueError, match="gc_after"):
    jax.eval_shape(KwsDSCNN(num_classes=4, gc_after=(4,)).init, jax.random.key(0), waves)
  with pytest.raises(ValueError, match="norm"):
    jax.eval_shape(KwsDSCNN(num_classes=4, norm="batch").init, jax.random.key(0), waves)


def test_frontend_follows_the_data_sample_rate():
  config = fsdd_kws_gc.get_config("runlocal")
  config.data.sample_rate = 16000
  assert config.model.frontend.sample_rate == 16000
  model = models.build(config.model, num_classes=4)
  x = jnp.zeros((1, 16000), jnp.float32)
  z, _ = model.apply(model.init(jax.random.key(0), x), x, 0, method="run_stage")
  assert z.shape == (1, 13, 10, 16)                # 1 s at 16 kHz: same frames as 1 s at 8 kHz


def test_spec_augment_acts_only_in_training_and_follows_the_key(waves):
  model = _build()
  params = jax.jit(model.init)(jax.random.key(0), waves)["params"]
  run = jax.jit(lambda p, x, k: model.apply({"params": p}, x, train=True, mutable=["gate"],
                                            rngs={"dropout": k})[0])
  evaluate = model.apply({"params": params}, waves, mutable=["gate"])[0]
  a, b = run(params, waves, jax.random.key(1)), run(params, waves, jax.random.key(2))
  np.testing.assert_array_equal(a, run(params, waves, jax.random.key(1)))
  assert not np.allclose(a, b) and not np.allclose(a, evaluate)
  off = model.clone(spec_augment=None)
  np.testing.assert_allclose(
      off.apply({"params": params}, waves, train=True, mutable=["gate"],
                rngs={"dropout": jax.random.key(1)})[0], evaluate, rtol=1e-6, atol=1e-6)
