"""The codec objective (no labels): reconstruction, commitment, routing and adversarial terms.

Selected with `config.loss.task = "codec"`. Every term is looked up by name in `config.loss.terms`
(name -> weight; weight 0 turns a term off) and is unweighted in the metrics:

    loss = sum_name weight[name] * term[name]

- "mel": multi-scale mel loss (`codec.losses.multiscale_mel_loss`, scales `config.loss.mel_scales`,
  log weight `config.loss.mel_log_weight`);
- "waveform_l1": mean |x - x'|;
- "commitment": the RVQ commitment loss;
- "routing_entropy", "routing_budget": the DSL terms of `gcnet.train.objective` (budget
  `config.loss.heavy_budget` = rho, the target heavy fraction); they need a DSL model;
- "adv_generator", "feature_matching", "adv_discriminator": STFT-discriminator terms
  (`codec.losses.adversarial_losses`); they need `config.model.adversarial=True`.
"""

from typing import Callable

import jax
import jax.numpy as jnp

from gcnet import ops
from gcnet.audio import quality
from gcnet.models.codec import losses as codec_losses
from gcnet.train import objective

RECONSTRUCTION_TERMS = ("mel", "waveform_l1", "commitment")
ROUTING_TERMS = ("routing_entropy", "routing_budget")
ADVERSARIAL_TERMS = ("adv_generator", "feature_matching", "adv_discriminator")
CODEC_TERMS = RECONSTRUCTION_TERMS + ROUTING_TERMS + ADVERSARIAL_TERMS
# Collections the model sows afresh on every call: never carried in (sow would append to them).
_SOWN = ("gate", "codebook")


def check_codec_terms(loss_config, model) -> None:
  """Raises ValueError for unknown terms or terms the model cannot provide."""
  unknown = sorted(set(loss_config.terms) - set(CODEC_TERMS))
  if unknown:
    raise ValueError(f"Unknown codec loss terms {unknown} in config.loss.terms; codec terms: "
                     f"{list(CODEC_TERMS)}.")
  terms = {k for k, w in loss_config.terms.items() if w != 0}
  routing = sorted(terms & set(ROUTING_TERMS))
  if routing and getattr(model, "pathway", "dsl") != "dsl":
    raise ValueError(f"Loss terms {routing} need the statistics of a Dynamic Switch layer, but "
                     f"the codec has pathway={model.pathway!r} (no switch). Use "
                     "--config.model.pathway=dsl or remove the routing terms.")
  if "routing_budget" in terms and not 0.0 <= float(loss_config.heavy_budget) <= 1.0:
    raise ValueError(f"config.loss.heavy_budget={loss_config.heavy_budget} must be in [0, 1].")
  if "routing_budget" in terms and loss_config.get("budget_on", "prob") not in objective.BUDGET_ON:
    raise ValueError(f"config.loss.budget_on={loss_config.budget_on!r} is not one of "
                     f"{objective.BUDGET_ON}.")
  adversarial = sorted(terms & set(ADVERSARIAL_TERMS))
  if adversarial and not getattr(model, "adversarial", False):
    raise ValueError(f"Loss terms {adversarial} need the discriminator: set "
                     "--config.model.adversarial=True or remove them.")


def codec_objective(out: dict, collections: dict, batch: dict, loss_config, sample_rate: int,
                    adversarial: Callable | None = None) -> tuple[jax.Array, dict]:
  """Weighted sum of the named codec terms and training metrics.

  Args:
    out: the codec's output dict (`recon [B, T]`, `commit_loss`, optionally `route [B, S]`).
    collections: mutable collections of the apply ("gate" with `ops.SwitchStats` for routing terms,
      optionally "codebook").
    batch: `{"inputs": float32 [B, T]}`.
    sample_rate: Hz, for the mel loss.
    adversarial: `fn(target, recon) -> {name: scalar}` of the adversarial terms, if any are used.
  Returns:
    `(loss, metrics)`: `term/<name>` per term (unweighted), `loss`, `si_sdr`, and for a DSL model
    `light_fraction` and `heavy_prob`.
  """
  target = jnp.asarray(batch["inputs"], jnp.float32)
  recon = out["recon"]
  ctx = {"gate": collections.get("gate", {}), "batch": batch, "loss_config": loss_config}
  adv = None
  metrics, loss = {}, jnp.float32(0.0)
  for name, weight in loss_config.terms.items():
    if weight == 0:  # Listed so that flags can turn it on; off terms need no statistics.
      continue
    if name == "mel":
      value = codec_losses.multiscale_mel_loss(
          target, recon, sample_rate, tuple(loss_config.mel_scales),
          log_weight=loss_config.mel_log_weight)
    elif name == "waveform_l1":
      value = codec_losses.waveform_l1(target, recon)
    elif name == "commitment":
      value = out["commit_loss"]
    elif name in ROUTING_TERMS:
      value = objective.TERMS[name](ctx)
    elif name in ADVERSARIAL_TERMS:
      if adversarial is None:
        raise ValueError(f"Loss term {name!r} needs the discriminator (model.adversarial=True).")
      adv = adv if adv is not None else adversarial(target, recon)
      value = adv[name]
    else:
      raise ValueError(f"Unknown codec loss term {name!r}; codec terms: {list(CODEC_TERMS)}.")
    metrics[f"term/{name}"] = value
    loss = loss + weight * value
  metrics["si_sdr"] = jnp.mean(quality.si_sdr(target, jax.lax.stop_gradient(recon)))
  stats = objective.find_stats(ctx["gate"], ops.SwitchStats)
  if stats:
    metrics["light_fraction"] = 1.0 - jnp.mean(jnp.stack([jnp.mean(s.heavy) for s in stats]))
    metrics["heavy_prob"] = jnp.mean(jnp.stack([jnp.mean(s.prob) for s in stats]))
  codebook = collections.get("codebook")
  if codebook:
    health = jax.tree_util.tree_leaves(codebook, is_leaf=lambda x: hasattr(x, "perplexity"))
    metrics["codebook_perplexity"] = jnp.mean(health[0].perplexity)
    metrics["codebook_dead"] = jnp.sum(health[0].dead)
  metrics["loss"] = loss
  return loss, metrics


def make_codec_loss_fn(model, config):
  """`loss_fn(params, model_state, batch, rng) -> (loss, (metrics, new_model_state))` of a codec.

  `model_state` carries the quantizer's EMA codebooks ("quantizer") from step to step.
  """
  check_codec_terms(config.loss, model)
  sample_rate = int(model.sample_rate)
  adversarial_used = any(w != 0 for k, w in config.loss.terms.items() if k in ADVERSARIAL_TERMS)

  def loss_fn(params, model_state, batch, rng):
    carried = {k: v for k, v in model_state.items() if k not in _SOWN}
    variables = {"params": params, **carried}
    mutable = ["gate", "codebook", *carried.keys()]
    out, cols = model.apply(variables, batch["inputs"], train=True, mutable=mutable,
                            rngs={"dropout": rng})
    adversarial = None
    if adversarial_used:
      discriminate = lambda p, w: model.apply({"params": p}, w, method="discriminate")
      adversarial = lambda t, r: codec_losses.adversarial_losses(discriminate, params, t, r)
    loss, metrics = codec_objective(out, cols, batch, config.loss, sample_rate, adversarial)
    new_model_state = {k: cols[k] if k in carried else v for k, v in model_state.items()}
    return loss, (metrics, new_model_state)

  return loss_fn
