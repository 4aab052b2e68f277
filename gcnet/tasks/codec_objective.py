"""The objective of a codec (no labels): reconstruction, commitment, routing and adversarial terms,
and its training metrics. Every term is unweighted; `config.loss.terms` weights them.

- "mel": multi-scale mel loss (`codec.losses.multiscale_mel_loss`, scales `config.loss.mel_scales`,
  log weight `config.loss.mel_log_weight`);
- "waveform_l1": mean |x - x'|;
- "commitment": the RVQ commitment loss;
- "routing_entropy", "routing_budget": the DSL terms (`gcnet.tasks.layer_terms`; budget
  `config.loss.heavy_budget` = rho, the target heavy fraction); they need a DSL model;
- "routing_prediction": the error-predicting switch (`dynamic_switch_losses.routing_prediction`
  on the per-segment log-mel errors of the light and the heavy decoder,
  `codec.losses.segment_mel_error`); it needs a DSL model with `switch_training="predict"`;
- "adv_generator", "feature_matching", "adv_discriminator": STFT-discriminator terms
  (`codec.losses.adversarial_losses`); they need `config.model.adversarial=True`.
"""

from typing import Callable, Sequence

import jax
import jax.numpy as jnp

from gcnet import ops
from gcnet.audio import quality
from gcnet.models.codec import losses as codec_losses
from gcnet.nn import dynamic_switch_losses as dsl_losses
from gcnet.nn.stats import STATS_COLLECTION, find_stats, require_stats
from gcnet.tasks import layer_terms

RECONSTRUCTION_TERMS = ("mel", "waveform_l1", "commitment")
ADVERSARIAL_TERMS = ("adv_generator", "feature_matching", "adv_discriminator")
PREDICTION_TERMS = ("routing_prediction",)
TERMS = RECONSTRUCTION_TERMS + layer_terms.ROUTING_TERMS + PREDICTION_TERMS + ADVERSARIAL_TERMS

_SWITCH_FIX = "Use --config.model.pathway=dsl (a Dynamic Switch codec) or remove the term."


def check_terms(names: Sequence[str], model, loss_config) -> None:
  """Raises ValueError for terms `names` that `model` or `loss_config` cannot serve."""
  routing = sorted(set(names) & set(layer_terms.ROUTING_TERMS))
  if routing and getattr(model, "pathway", "dsl") != "dsl":
    raise ValueError(f"Loss terms {routing} need the statistics of a Dynamic Switch layer, but "
                     f"the codec has pathway={model.pathway!r} (no switch). Use "
                     "--config.model.pathway=dsl or remove the routing terms.")
  layer_terms.check_routing_config(names, loss_config)
  predicting = getattr(model, "switch_training", "mixed") == "predict"
  if "routing_prediction" in names and not (getattr(model, "pathway", "") == "dsl" and predicting):
    raise ValueError("Loss term 'routing_prediction' needs a DSL codec trained with "
                     "--config.model.switch_training=predict.")
  if predicting and set(names) & set(layer_terms.ROUTING_TERMS):
    raise ValueError(f"switch_training='predict' trains the switch by 'routing_prediction'; "
                     f"remove {sorted(set(names) & set(layer_terms.ROUTING_TERMS))} from "
                     "config.loss.terms.")
  adversarial = sorted(set(names) & set(ADVERSARIAL_TERMS))
  if adversarial and not getattr(model, "adversarial", False):
    raise ValueError(f"Loss terms {adversarial} need the discriminator: set "
                     "--config.model.adversarial=True or remove them.")


def terms(names: Sequence[str], out: dict, collections: dict, target: jax.Array, loss_config,
          sample_rate: int, adversarial: Callable | None = None) -> dict[str, jax.Array]:
  """The codec terms `names` (each in TERMS), unweighted.

  Args:
    out: the codec's output dict (`recon [B, T]`, `commit_loss`, optionally `route [B, S]`).
    collections: mutable collections of the apply ("gate" with `ops.SwitchStats` for routing terms).
    target: float32 `[B, T]`, the input waveform.
    sample_rate: Hz, for the mel loss.
    adversarial: `fn(target, recon) -> {name: scalar}` of the adversarial terms, if any are used.
  """
  recon = out["recon"]
  adv = None
  values = {}
  for name in names:
    if name == "mel":
      values[name] = codec_losses.multiscale_mel_loss(
          target, recon, sample_rate, tuple(loss_config.mel_scales),
          log_weight=loss_config.mel_log_weight)
    elif name == "waveform_l1":
      values[name] = codec_losses.waveform_l1(target, recon)
    elif name == "commitment":
      values[name] = out["commit_loss"]
    elif name in layer_terms.ROUTING_TERMS:
      values[name] = layer_terms.routing_term(name, collections, loss_config, fix=_SWITCH_FIX)
    elif name == "routing_prediction":
      stats = require_stats(collections.get(STATS_COLLECTION, {}), ops.SwitchStats, term=name,
                            fix=_SWITCH_FIX)
      segments = stats[0].logit.shape[1]
      errors = [codec_losses.segment_mel_error(target, jax.lax.stop_gradient(out[k]), sample_rate,
                                               segments) for k in ("recon", "recon_heavy")]
      values[name] = dsl_losses.routing_prediction(stats, *errors, loss_config.heavy_budget)
    elif name in ADVERSARIAL_TERMS:
      if adversarial is None:
        raise ValueError(f"Loss term {name!r} needs the discriminator (model.adversarial=True).")
      adv = adv if adv is not None else adversarial(target, recon)
      values[name] = adv[name]
    else:
      raise ValueError(f"Unknown codec loss term {name!r}; codec terms: {list(TERMS)}.")
  return values


def metrics(out: dict, collections: dict, target: jax.Array) -> dict[str, jax.Array]:
  """`si_sdr` (dB); for a DSL model `light_fraction` and `heavy_prob`; with a "codebook"
  collection `codebook_perplexity` and `codebook_dead` (first quantizer)."""
  m = {"si_sdr": jnp.mean(quality.si_sdr(target, jax.lax.stop_gradient(out["recon"])))}
  stats = find_stats(collections.get(STATS_COLLECTION, {}), ops.SwitchStats)
  if stats:
    m["light_fraction"] = 1.0 - jnp.mean(jnp.stack([jnp.mean(s.heavy) for s in stats]))
    m["heavy_prob"] = jnp.mean(jnp.stack([jnp.mean(s.prob) for s in stats]))
  codebook = collections.get("codebook")
  if codebook:
    health = jax.tree_util.tree_leaves(codebook, is_leaf=lambda x: hasattr(x, "perplexity"))
    m["codebook_perplexity"] = jnp.mean(health[0].perplexity)
    m["codebook_dead"] = jnp.sum(health[0].dead)
  return m
