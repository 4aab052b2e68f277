"""The codec objective: named terms, their values, and clear errors for terms a model cannot serve."""

import jax
import jax.numpy as jnp
import ml_collections as mlc
import numpy as np
import pytest

from gcnet import ops
from gcnet.models.codec import losses
from gcnet.tasks import codec_objective
from gcnet.tasks.codec import CodecTask
from gcnet.train import loss as loss_lib
from tests.models.codec.codec_testutil import key, waves


def _loss_config(**terms):
  return mlc.ConfigDict(dict(task="codec", terms=terms, heavy_budget=0.2, budget_kind="l2",
                             mel_scales=(64, 128), mel_log_weight=1.0))


def _task(model, loss_config):
  task = CodecTask(mlc.ConfigDict(dict(loss=loss_config)))
  task.model = model  # Built from config.model on first use otherwise.
  return task


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
  values = codec_objective.terms(tuple(cfg.terms), out, cols, x, cfg, 8000)
  loss, m = loss_lib.weighted_sum(0.0, values, cfg.terms)
  m.update(codec_objective.metrics(out, cols, x))
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
    codec_objective.terms(tuple(cfg.terms), out, {}, x, cfg, 8000)
  heavy = tiny_codec[0].clone(pathway="heavy")
  with pytest.raises(ValueError, match=r"pathway='heavy'.*routing"):
    loss_lib.make_loss_fn(_task(heavy, cfg), cfg.terms)
  cfg.terms = {"mel": 1.0, "routing_budget": 0.0}  # Weight 0: off, needs no switch.
  loss_lib.make_loss_fn(_task(heavy, cfg), cfg.terms)
  cfg.terms = {"mel": 1.0, "adv_generator": 1.0}
  with pytest.raises(ValueError, match="adversarial=True"):
    loss_lib.make_loss_fn(_task(tiny_codec[0], cfg), cfg.terms)
  cfg.terms = {"mel": 1.0, "gate_bce": 1.0}
  with pytest.raises(ValueError, match=r"Unknown loss terms \['gate_bce'\].*'mel'"):
    loss_lib.make_loss_fn(_task(tiny_codec[0], cfg), cfg.terms)
  cfg.terms = {"mel": 1.0, "routing_budget": 1.0}
  cfg.heavy_budget = 1.5
  with pytest.raises(ValueError, match=r"config.loss: heavy budget 1.5 must be in \[0, 1\]"):
    loss_lib.make_loss_fn(_task(tiny_codec[0], cfg), cfg.terms)


def test_codec_loss_fn_carries_the_quantizer_state(tiny_codec):
  model, variables = tiny_codec
  cfg = _loss_config(mel=1.0, commitment=1.0, routing_budget=1.0)
  loss_fn = loss_lib.make_loss_fn(_task(model, cfg), cfg.terms)
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
  np.testing.assert_allclose(loss, metrics["term/mel"] + metrics["term/commitment"]
                             + metrics["term/routing_budget"], rtol=1e-5)


def optax_norm(tree):
  return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree)))
