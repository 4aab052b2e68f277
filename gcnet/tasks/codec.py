"""Codec training: a SoundStream-style codec (with a Dynamic Switch) trained on unlabelled audio.

Loss: the named codec terms (`codec_objective`), no task loss of its own. Periodic evaluation: the
hard-routed reconstruction of the validation split (at most `config.eval.max_seconds` of it; 0: all)
scored by SI-SDR and mel distance, and the light fraction. Report:
`gcnet.eval.codec_report.write_codec_report` on `config.eval.split`.
"""

import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

from gcnet import data as data_lib
from gcnet.audio import quality
from gcnet.eval import codec_report
from gcnet.models.codec import losses as codec_losses
from gcnet.nn.gated_compression import GATE_COLLECTION
from gcnet.tasks import codec_objective
from gcnet.tasks.base import ModelTask

# Collections the model sows afresh on every call: never fed back into it (sow would append).
_SOWN = (GATE_COLLECTION, "codebook")


class CodecTask(ModelTask):
  """The `gcnet.train.task.Task` of `config.loss.task = "codec"`.

  `model_state` carries the quantizer's EMA codebooks ("quantizer") from step to step. The dataset
  and the model are built on first use (`config.data`, `config.model`).
  """

  term_names = codec_objective.TERMS

  def terms_fn(self, names):
    model, loss_config = self.model, self.config.loss
    codec_objective.check_terms(names, model, loss_config)
    sample_rate = int(model.sample_rate)
    adversarial_used = bool(set(names) & set(codec_objective.ADVERSARIAL_TERMS))

    def fn(params, model_state, batch, rng):
      carried = {k: v for k, v in model_state.items() if k not in _SOWN}
      variables = {"params": params, **carried}
      mutable = [*_SOWN, *carried.keys()]
      out, cols = model.apply(variables, batch["inputs"], train=True, mutable=mutable,
                              rngs={"dropout": rng})
      adversarial = None
      if adversarial_used:
        discriminate = lambda p, w: model.apply({"params": p}, w, method="discriminate")
        adversarial = lambda t, r: codec_losses.adversarial_losses(discriminate, params, t, r)
      target = jnp.asarray(batch["inputs"], jnp.float32)
      values = codec_objective.terms(names, out, cols, target, loss_config, sample_rate,
                                     adversarial)
      new_model_state = {k: cols[k] if k in carried else v for k, v in model_state.items()}
      return jnp.float32(0.0), values, codec_objective.metrics(out, cols, target), new_model_state

    return fn

  @functools.cached_property
  def _scores(self):
    """Jitted `(variables, wave [B, T]) -> (si_sdr [B], mel_distance [B], heavy [B, S] | None)`."""
    model = self.model

    @jax.jit
    def scores(variables, wave):
      out = model.apply(variables, wave)
      recon = out["recon"]
      return (quality.si_sdr(wave, recon), quality.mel_distance(wave, recon, model.sample_rate),
              out.get("route"))

    return scores

  def evaluate(self, params, model_state) -> dict[str, float]:
    """`si_sdr` (dB), `mel_distance` and `light_fraction` of the hard-routed codec on validation."""
    ev, model = self.config.eval, self.model
    variables = jax.tree.map(np.asarray, {"params": params, **{
        k: v for k, v in model_state.items() if k not in _SOWN}})
    batches = data_lib.eval_batches(self.dataset, "validation", batch_size=ev.batch_size)
    max_s = float(ev.get("max_seconds", 0.0))
    if max_s > 0:
      per_batch = ev.batch_size * self.dataset.eval_crop_samples / model.sample_rate
      batches = itertools.islice(batches, max(1, math.ceil(max_s / per_batch)))
    si_sdr, mel, heavy = [], [], []
    for batch in batches:
      keep = np.asarray(batch["mask"], bool)
      s, m, route = self._scores(variables, np.asarray(batch["inputs"], np.float32))
      si_sdr.append(np.asarray(s)[keep])
      mel.append(np.asarray(m)[keep])
      if route is not None:
        heavy.append(np.asarray(route)[keep])
    out = {"si_sdr": float(np.mean(np.concatenate(si_sdr))),
           "mel_distance": float(np.mean(np.concatenate(mel)))}
    if heavy:
      out["light_fraction"] = float(1.0 - np.mean(np.concatenate(heavy)))
    else:
      out["light_fraction"] = 1.0 if model.pathway == "light" else 0.0
    return out

  def report(self, workdir, params, model_state, step: int) -> dict:
    return codec_report.write_codec_report(self.config, workdir, self.model, params, model_state,
                                           self.dataset, step)
