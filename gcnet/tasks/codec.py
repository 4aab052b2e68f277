"""Codec training: a SoundStream-style codec (with a Dynamic Switch) trained on unlabelled audio.

Loss: the named codec terms (`codec_objective`), no task loss of its own. Two-stage training
(`config.warm_start.workdir`, `config.warm_start.frozen`): the codec starts from a trained
heavy-only run's encoder, codebooks and heavy decoder and keeps the frozen ones fixed
(`gcnet.models.codec.warm_start`). Periodic evaluation: the
hard-routed reconstruction of the validation split (at most `config.eval.max_seconds` of it; 0: all)
scored by SI-SDR and mel distance, and the light fraction. Report:
`gcnet.tasks.codec_report.write_codec_report` on `config.eval.split`.
"""

import functools
import itertools
import logging
import math

import jax
import jax.numpy as jnp
import numpy as np

from gcnet import data as data_lib
from gcnet.audio import quality
from gcnet.tasks import codec_report
from gcnet.models.codec import losses as codec_losses
from gcnet.models.codec import warm_start
from gcnet.nn.gated_compression import GATE_COLLECTION
from gcnet.tasks import codec_objective
from gcnet.tasks.base import ModelTask
from gcnet.train import checkpoint
from gcnet.train import run_dir

# Collections the model sows afresh on every call: never fed back into it (sow would append).
_SOWN = (GATE_COLLECTION, "codebook")


class CodecTask(ModelTask):
  """The `gcnet.train.task.Task` of `config.loss.task = "codec"`.

  `model_state` carries the quantizer's EMA codebooks ("quantizer") from step to step. The dataset
  and the model are built on first use (`config.data`, `config.model`).
  """

  term_names = codec_objective.TERMS

  @property
  def frozen(self) -> tuple[str, ...]:
    """The frozen parts (`warm_start.FREEZABLE`) of `config.warm_start.frozen`; () without one."""
    ws = self.config.get("warm_start") or {}
    frozen = tuple(ws.get("frozen", ()) or ())
    warm_start.check_frozen(frozen, self.model.pathway)
    if frozen and not ws.get("workdir"):
      raise ValueError(f"config.warm_start.frozen={frozen} freezes untrained parts: set "
                       "config.warm_start.workdir to a trained heavy-only run.")
    return frozen

  def init_variables(self, rng: jax.Array) -> dict:
    """The codec's initial variables; with `config.warm_start.workdir`, the stage-1 parts copied
    in from that heavy-only run's newest checkpoint."""
    variables = super().init_variables(rng)
    source = (self.config.get("warm_start") or {}).get("workdir", "")
    if not source:
      return variables
    source_config = run_dir.read_config(run_dir.resolve(source))
    if source_config.model.get("pathway") != "heavy":
      raise ValueError(f"config.warm_start.workdir={source} is a "
                       f"{source_config.model.get('pathway')!r} codec; it must be a heavy-only "
                       "run (experiments/codec_dsl.py:heavy).")
    params, state, step = checkpoint.restore_params(run_dir.resolve(source))
    logging.info("Warm start from %s (step %d), frozen: %s", source, step, self.frozen)
    return warm_start.transplant(variables, params, state, self.model.pathway)

  def terms_fn(self, names):
    model, loss_config = self.model, self.config.loss
    codec_objective.check_terms(names, model, loss_config)
    sample_rate = int(model.sample_rate)
    adversarial_used = bool(set(names) & set(codec_objective.ADVERSARIAL_TERMS))
    frozen = self.frozen

    def fn(params, model_state, batch, rng):
      carried = {k: v for k, v in model_state.items() if k not in _SOWN}
      variables = {"params": warm_start.freeze_params(params, frozen, model.pathway), **carried}
      # Frozen codebooks: the "quantizer" collection is read, never updated.
      mutable = [*_SOWN, *(k for k in carried if not (k == "quantizer" and "quantizer" in frozen))]
      out, cols = model.apply(variables, batch["inputs"], train=True, mutable=mutable,
                              rngs={"dropout": rng})
      adversarial = None
      if adversarial_used:
        discriminate = lambda p, w: model.apply({"params": p}, w, method="discriminate")
        adversarial = lambda t, r: codec_losses.adversarial_losses(discriminate, params, t, r)
      target = jnp.asarray(batch["inputs"], jnp.float32)
      values = codec_objective.terms(names, out, cols, target, loss_config, sample_rate,
                                     adversarial)
      new_model_state = {k: cols[k] if k in cols and k in carried else v
                         for k, v in model_state.items()}
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
