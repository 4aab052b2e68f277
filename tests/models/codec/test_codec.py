"""The SoundStream-DSL codec: interface, causality, staged inference, training step, compute."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from tests.models.codec.codec_testutil import fill_variables, key, waves
from gcnet import models, ops
from gcnet.models.codec import codec_compute, from_config, losses
from gcnet.models.codec.staged import StagedCodec


def _routing_params(variables, scale=30.0):
  """Sharper switch weights so that the segments of the test signals go both ways."""
  params = jax.tree.map(lambda a: a, variables["params"])
  params["switch"]["switch_out"]["kernel"] = scale * params["switch"]["switch_out"]["kernel"]
  return {**variables, "params": params}


def test_registry_builds_codec_and_shapes(tiny_codec):
  cfg = ml_collections.ConfigDict({"name": "soundstream_dsl", "size": "tiny", "n_unused": 1})
  del cfg["n_unused"]
  model = models.build(cfg, num_classes=0)
  assert model == tiny_codec[0] and model.segment_samples == 160
  model, v = tiny_codec
  out = jax.jit(model.apply)(v, waves(2, 700))  # Padded to 800 inside, cropped back.
  assert out["recon"].shape == (2, 700) and out["codes"].shape == (2, 20, 4)
  assert out["route"].shape == (2, 5)


def test_codec_is_causal_per_segment(tiny_codec):
  model, v = tiny_codec
  apply = jax.jit(model.apply)
  x = waves(2, 640)
  y = apply(v, x)["recon"]
  y2 = apply(v, x.at[:, 320:].add(0.3))["recon"]  # From the start of segment 2 on.
  np.testing.assert_allclose(y2[:, :320], y[:, :320], atol=1e-6)
  assert np.abs(y2[:, 320:] - y[:, 320:]).max() > 1e-4


def test_staged_inference_runs_chosen_decoders_and_matches_training_output(tiny_codec):
  model, v = tiny_codec
  v = _routing_params(v)
  x = waves(2, 640)
  staged = StagedCodec(model, v)
  recon, counts = staged(x)
  heavy = counts["heavy"]
  assert 0 < heavy.sum() < heavy.size, heavy
  assert counts["heavy_calls"] == counts["light_calls"] == 1
  assert counts["heavy_segments"] == heavy.sum() and counts["heavy_rows"] < heavy.size
  # Training-mode output (hard routing, no quantizer dropout, frozen codebooks) is the same.
  train_model = model.clone(quantizer_dropout=0.0)
  out, cols = jax.jit(lambda v, x: train_model.apply(
      v, x, train=True, mutable=["gate"], rngs={"dropout": key(0)}))(v, x)
  np.testing.assert_array_equal(out["route"], heavy.astype(np.float32))
  np.testing.assert_allclose(recon, out["recon"], atol=1e-5)
  assert isinstance(cols["gate"]["switch"]["stats"][0], ops.SwitchStats)
  # Fewer quantizers: a different (coarser) reconstruction, same shape.
  assert staged(x, n_q=1)[0].shape == (2, 640)


def test_forward_backward_with_discriminator():
  model = from_config({"size": "tiny", "adversarial": True})
  x = waves(2, 640)
  v = _routing_params(fill_variables(model, x))
  assert "discriminator" in v["params"]

  def objective(params, state, x, rng):
    out, cols = model.apply({"params": params, "quantizer": state}, x, train=True,
                            mutable=["quantizer", "gate"], rngs={"dropout": rng})
    stats = cols["gate"]["switch"]["stats"][0]
    adv = losses.adversarial_losses(
        lambda p, w: model.apply({"params": p}, w, method="discriminate"), params, x, out["recon"])
    loss = (losses.multiscale_mel_loss(x, out["recon"], 8000, (64, 128, 256))
            + losses.waveform_l1(x, out["recon"]) + out["commit_loss"]
            + ops.routing_entropy_loss(stats.prob) + ops.budget_loss(stats.prob, 0.2)
            + adv["adv_generator"] + adv["feature_matching"] + adv["adv_discriminator"])
    return loss, cols["quantizer"]

  step = jax.jit(jax.value_and_grad(objective, has_aux=True))
  (loss, state), grads = step(v["params"], v["quantizer"], x, key(0))
  assert np.isfinite(float(loss)) and bool(state["quantizer"]["initialized"])
  norms = {k: float(optax_norm(g)) for k, g in grads.items()}
  for part in ("encoder", "discriminator"):
    assert np.isfinite(norms[part]) and norms[part] > 0, norms
  switch = grads["switch"]
  for part in ("heavy", "light", "switch_out"):
    assert float(optax_norm(switch[part])) > 0, part


def optax_norm(tree):
  return jnp.sqrt(sum(jnp.sum(jnp.square(a)) for a in jax.tree.leaves(tree)))


def test_compute_ratio_helper():
  model = from_config({"size": "tiny"})
  prof = codec_compute(model, seconds=0.02)
  for part in ("encoder", "heavy", "light"):
    assert prof[part]["params"] > 0 and prof[part]["flops_per_s"] > 0
    assert 0.8 < prof[part]["flops_per_s"] / (2 * prof[part]["macs_per_s"]) < 1.3, part
  assert prof["ratio"]["params"] > 5 and prof["ratio"]["flops"] > 5
  assert 1 < prof["ratio"]["path_flops"] < prof["ratio"]["flops"]


def test_light_decoder_width_from_the_experiment_config():
  from experiments import codec_dsl  # pylint: disable=g-import-not-at-top
  config = codec_dsl.get_config("light,stage2")
  config.model.size = "tiny"
  assert config.model.light_frame_channels is None          # unset: the size's width
  narrow = codec_compute(from_config(config.model), seconds=0.02)["light"]["params"]
  config.model.light_frame_channels = 16
  wider = from_config(config.model)
  assert wider.light_frame_channels == 16
  assert codec_compute(wider, seconds=0.02)["light"]["params"] > 2 * narrow
