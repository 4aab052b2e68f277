"""The STFT discriminator trains through gcnet's train step once its terms have weight (after the
reconstruction-only warm-up, where it is left untouched)."""

import jax
import numpy as np
import pytest

from tests.data.audio.codec_data_testutil import write_fsdd_like
from gcnet import tasks
from gcnet.train import loop, mesh as mesh_lib
from gcnet.train.loss import make_loss_fn
from gcnet.train.step import make_train_step


def _two_steps(source_dir, adversarial_weight):
  from experiments import codec_dsl  # pylint: disable=g-import-not-at-top
  config = codec_dsl.get_config("heavy,adversarial,fsdd,runlocal")
  config.data.source_dir = source_dir
  config.data.test_speakers, config.data.validation_speakers = ("carol",), ("dave",)
  config.data.background_dirs = ("",)
  config.mesh.data = 1
  config.train.batch_size = 2
  config.loss.terms.adv_generator = adversarial_weight
  config.loss.terms.feature_matching = 2 * adversarial_weight
  config.loss.terms.adv_discriminator = adversarial_weight
  task = tasks.get_task(config)
  mesh = mesh_lib.make_mesh(config.mesh)
  state, optimizer = loop.init_state(task, config, mesh)
  before = jax.tree.map(np.asarray, state.params["discriminator"])
  step = make_train_step(make_loss_fn(task, config.loss.terms), optimizer, mesh, state)
  rng = np.random.default_rng(0)
  batch = mesh_lib.make_global_batch(
      {"inputs": (0.1 * rng.standard_normal((2, 2000))).astype(np.float32)}, mesh)
  with jax.set_mesh(mesh):
    for i in range(2):
      state, metrics = step(state, batch, jax.random.key(i))
  changed = any(not np.array_equal(a, np.asarray(b)) for a, b in zip(
      jax.tree.leaves(before), jax.tree.leaves(state.params["discriminator"])))
  return changed, {k: float(v) for k, v in metrics.items()}


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_discriminator_trains_only_once_its_terms_are_on(tmp_path, weight):
  write_fsdd_like(str(tmp_path))
  previous = jax.config.jax_default_prng_impl
  jax.config.update("jax_default_prng_impl", "rbg")
  try:
    changed, metrics = _two_steps(str(tmp_path), weight)
  finally:
    jax.config.update("jax_default_prng_impl", previous)
  assert np.isfinite(metrics["loss"])
  assert changed == (weight > 0)
  assert ("term/adv_discriminator" in metrics) == (weight > 0)
