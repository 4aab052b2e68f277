"""The codec objective: named terms, their values, and clear errors for terms a model cannot serve."""

import jax
import jax.numpy as jnp
import ml_collections as mlc
import numpy as np
import pytest

from codec_testutil import key, waves
from gcnet import ops
from gcnet.models.codec import losses
from gcnet.train import codec_loss
from gcnet.train.loss_fn import make_loss_fn


def _loss_config(**terms):
  return mlc.ConfigDict(dict(task="codec", terms=terms, heavy_budget=0.2, budget_kind="l2",
                             mel_scales=(64, 128), mel_log_weight=1.0))


@pytest.fixture(scope="module")
def tiny_output(tiny_codec):
  model, variables = tiny_codec
  x = waves(2, 640)
  out, cols = jax.jit(lambda v, x: model.apply(v, x, train=True, mutable=["gate", "quantizer"],
                                               rngs={"dropout": key(0)}))(variables, x)
  return x, out, cols


def test_codec_terms_are_the_weighted_sum_of_their_values(tiny_output):
  x, out, cols = tiny_output
  cfg = _loss_config(mel=1.0, waveform_l1=2.0, commitment=0.5, routing_entropy=0.1,
                     routing_budget=10.0)
  loss, m = codec_loss.codec_objective(out, cols, {"inputs": x}, cfg, 8000)
  mel = losses.multiscale_mel_loss(x, out["recon"], 8000, (64, 128))
  np.testing.assert_allclose(m["term/mel"], mel, rtol=1e-5)
  np.testing.assert_allclose(m["term/waveform_l1"], jnp.mean(jnp.abs(x - out["recon"])), rtol=1e-5)
  np.testing.assert_allclose(m["term/commitment"], out["commit_loss"], rtol=1e-6)
  prob = cols["gate"]["switch"]["stats"][0].prob
  np.testing.assert_allclose(m["term/routing_budget"], (jnp.mean(prob) - 0.2) ** 2, rtol=1e-5)
  np.testing.assert_allclose(m["term/routing_entropy"], jnp.mean(ops.binary_entropy(prob)),
                             rtol=1e-5)
  expected = (mel + 2.0 * m["term/waveform_l1"] + 0.5 * out["commit_loss"]
              + 0.1 * m["term/routing_entropy"] + 10.0 * m["term/routing_budget"])
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  np.testing.assert_allclose(m["light_fraction"], 1.0 - jnp.mean(out["route"]), rtol=1e-6)
  assert np.isfinite(m["si_sdr"])


def test_routing_terms_without_switch_stats_are_clear_errors(tiny_codec, tiny_output):
  x, out, _ = tiny_output
  cfg = _loss_config(mel=1.0, routing_budget=1.0)
  with pytest.raises(ValueError, match="Dynamic Switch"):
    codec_loss.codec_objective(out, {}, {"inputs": x}, cfg, 8000)
  heavy = tiny_codec[0].clone(pathway="heavy")
  config = mlc.ConfigDict(dict(loss=cfg, model=dict(adversarial=False)))
  with pytest.raises(ValueError, match=r"pathway='heavy'.*routing"):
    make_loss_fn(heavy, config, 0)
  config.loss.terms = {"mel": 1.0, "routing_budget": 0.0}  # Weight 0: off, needs no switch.
  make_loss_fn(heavy, config, 0)
  config.loss.terms = {"mel": 1.0, "adv_generator": 1.0}
  with pytest.raises(ValueError, match="adversarial=True"):
    make_loss_fn(tiny_codec[0], config, 0)
  config.loss.terms = {"mel": 1.0, "gate_bce": 1.0}
  with pytest.raises(ValueError, match="Unknown codec loss terms"):
    make_loss_fn(tiny_codec[0], config, 0)


def test_codec_loss_fn_carries_the_quantizer_state(tiny_codec):
  model, variables = tiny_codec
  config = mlc.ConfigDict(dict(loss=_loss_config(mel=1.0, commitment=1.0, routing_budget=1.0)))
  loss_fn = make_loss_fn(model, config, 0)
  stale = {"stats": (jnp.full((3,), 7.0),)}
  state = {"quantizer": variables["quantizer"], "codebook": stale}
  grad_fn = jax.jit(jax.value_and_grad(loss_fn, has_aux=True))
  (loss, (metrics, new_state)), grads = grad_fn(variables["params"], state, {"inputs": waves(2, 640)},
                                                key(1))
  assert np.isfinite(loss) and set(new_state) == {"quantizer", "codebook"}
  assert bool(new_state["quantizer"]["quantizer"]["initialized"])  # k-means ran on this batch
  assert not np.allclose(new_state["quantizer"]["quantizer"]["codebook"],
                         variables["quantizer"]["quantizer"]["codebook"])
  # Sown afresh each step: passed through unchanged, never fed back into the model.
  np.testing.assert_array_equal(new_state["codebook"]["stats"][0], stale["stats"][0])
  assert float(optax_norm(grads["switch"])) > 0 and "codebook_perplexity" in metrics


def optax_norm(tree):
  return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree)))
