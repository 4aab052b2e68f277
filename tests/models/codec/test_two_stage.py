"""Two-stage codec training: transplanting stage-1 parts, freezing them exactly, the switch that
predicts where the light decoder falls behind, and the stage-2 config checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.models.codec.codec_testutil import fill_variables
from experiments import codec_dsl
from gcnet import ops
from gcnet.models.codec import from_config, losses, warm_start
from gcnet.nn import dynamic_switch_losses as dsl_losses

WAVE = jnp.asarray(np.random.RandomState(0).randn(2, 640) * 0.1, jnp.float32)


@pytest.fixture(scope="module")
def heavy_and_dsl():
  heavy = from_config({"size": "tiny", "pathway": "heavy"})
  dsl = from_config({"size": "tiny", "pathway": "dsl", "switch_training": "predict",
                     "quantizer_dropout": 0.0})
  return (heavy, fill_variables(heavy, WAVE, seed=1)), (dsl, fill_variables(dsl, WAVE, seed=2))


def test_transplant_copies_encoder_codebooks_and_heavy_decoder(heavy_and_dsl):
  (heavy, hv), (dsl, dv) = heavy_and_dsl
  out = warm_start.transplant(dv, hv["params"], {"quantizer": hv["quantizer"]}, "dsl")
  same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a),
                                                                jax.tree.leaves(b)))
  assert same(out["params"]["encoder"], hv["params"]["encoder"])
  assert same(out["params"]["switch"]["heavy"], hv["params"]["decoder"])
  assert same(out["quantizer"], hv["quantizer"])
  assert same(out["params"]["switch"]["light"], dv["params"]["switch"]["light"])  # left as it was
  # The DSL codec forced heavy now reconstructs exactly what the heavy-only codec does.
  a = dsl.apply(out, WAVE, force="heavy")["recon"]
  b = heavy.apply(hv, WAVE)["recon"]
  np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


def test_transplant_rejects_a_codec_of_another_size(heavy_and_dsl):
  (_, hv), _ = heavy_and_dsl
  small = from_config({"size": "tiny", "pathway": "light", "channels": 8})
  sv = fill_variables(small, WAVE)
  with pytest.raises(ValueError, match="same size"):
    warm_start.transplant(sv, hv["params"], {"quantizer": hv["quantizer"]}, "light")


def test_frozen_parts_get_exactly_zero_gradient(heavy_and_dsl):
  _, (dsl, dv) = heavy_and_dsl

  def loss(params):
    frozen = warm_start.freeze_params(params, ("encoder", "heavy"), "dsl")
    out = dsl.apply({"params": frozen, "quantizer": dv["quantizer"]}, WAVE, train=True,
                    mutable=["gate"], rngs={"dropout": jax.random.key(0)})[0]
    return jnp.mean(jnp.square(out["recon"])) + jnp.mean(jnp.square(out["recon_heavy"]))

  grads = jax.grad(loss)(dv["params"])
  for part in (grads["encoder"], grads["switch"]["heavy"]):
    assert all(float(jnp.max(jnp.abs(g))) == 0.0 for g in jax.tree.leaves(part))
  assert max(float(jnp.max(jnp.abs(g))) for g in jax.tree.leaves(grads["switch"]["light"])) > 0


def test_check_frozen_names_the_problem():
  with pytest.raises(ValueError, match="Unknown frozen"):
    warm_start.check_frozen(("decoder",), "dsl")
  with pytest.raises(ValueError, match="no heavy"):
    warm_start.check_frozen(("heavy",), "light")
  warm_start.check_frozen(("encoder", "quantizer", "heavy"), "dsl")


def test_predict_mode_outputs_light_everywhere_and_the_heavy_reconstruction(heavy_and_dsl):
  _, (dsl, dv) = heavy_and_dsl
  # Initialised codebooks, so training mode quantizes as inference does (no k-means draw).
  dv = dict(dv, quantizer=jax.tree_util.tree_map_with_path(
      lambda p, x: jnp.ones_like(x) if p[-1].key == "initialized" else x, dv["quantizer"]))
  out, cols = dsl.apply(dv, WAVE, train=True, mutable=["gate"], rngs={"dropout": jax.random.key(0)})
  np.testing.assert_allclose(np.asarray(out["recon"]),
                             np.asarray(dsl.apply(dv, WAVE, force="light")["recon"]), atol=1e-6)
  np.testing.assert_allclose(np.asarray(out["recon_heavy"]),
                             np.asarray(dsl.apply(dv, WAVE, force="heavy")["recon"]), atol=1e-6)
  from gcnet.nn.stats import find_stats
  (stats,) = find_stats(cols["gate"], ops.SwitchStats)
  assert stats.logit.shape == out["route"].shape == (2, 640 // dsl.segment_samples)


def test_route_targets_mark_the_budget_share_with_the_largest_gap():
  light = jnp.array([[0.5, 0.9, 0.2, 1.0], [0.3, 0.3, 0.8, 0.1]])
  heavy = jnp.array([[0.4, 0.1, 0.2, 0.9], [0.3, 0.0, 0.1, 0.1]])
  # gaps: [[0.1, 0.8, 0.0, 0.1], [0.0, 0.3, 0.7, 0.0]] -> the 2 largest (rho = 0.25 of 8).
  targets = dsl_losses.route_targets(light, heavy, 0.25)
  np.testing.assert_array_equal(np.asarray(targets), [[0, 1, 0, 0], [0, 0, 1, 0]])


def test_routing_prediction_is_the_bce_against_the_targets():
  light = jnp.array([[1.0, 0.0]])
  heavy = jnp.array([[0.0, 0.0]])
  logits = jnp.array([[2.0, -1.0]])
  stats = ops.SwitchStats(logit=logits, prob=jax.nn.sigmoid(logits), heavy=jnp.zeros((1, 2)),
                          entropy=jnp.zeros((1, 2)))
  got = dsl_losses.routing_prediction([stats], light, heavy, 0.5)
  want = (np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0))) / 2  # target 1 for the first only.
  assert float(got) == pytest.approx(want, rel=1e-6)


def test_segment_mel_error_is_local_to_each_segment():
  rng = np.random.RandomState(3)
  target = jnp.asarray(rng.randn(1, 1600) * 0.1, jnp.float32)
  recon = target.at[0, 400:800].set(0.0)  # Only segment 1 of 4 differs.
  err = np.asarray(losses.segment_mel_error(target, recon, 8000, 4))
  assert err.shape == (1, 4)
  assert err[0, 1] > 1.0
  np.testing.assert_array_equal(err[0, [0, 2, 3]], 0.0)


def test_stage2_config_arguments():
  light = codec_dsl.get_config("light,stage2")
  assert light.warm_start.frozen == ("encoder", "quantizer")
  assert "commitment" not in light.loss.terms
  dsl = codec_dsl.get_config("dsl_budget0.1,predict,stage2")
  assert dsl.warm_start.frozen == ("encoder", "quantizer", "heavy")
  assert dsl.model.switch_training == "predict" and dsl.loss.heavy_budget == 0.1
  assert "routing_prediction" in dsl.loss.terms and "routing_budget" not in dsl.loss.terms
  with pytest.raises(ValueError, match="frozen heavy"):
    codec_dsl.get_config("dsl,predict")
  with pytest.raises(ValueError, match="stage 1"):
    codec_dsl.get_config("heavy,stage2")
