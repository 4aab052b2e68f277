"""A task gcnet does not ship, named by "module.path:Class": denoising random vectors.

It meets gcnet only at its contracts: an unlabelled `gcnet.data.contract.Dataset`, a model built by
"module.path:function", the methods of `gcnet.train.task.Task`, and `gcnet.train.run_dir` for its
report.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gcnet.data import contract
from gcnet.train import run_dir

DIM = 8
SIZES = {"train": 64, "validation": 16, "test": 16}


class VectorSource(contract.SourceBase):
  """Examples `{"inputs": float32 [DIM]}`; no labels."""

  def __init__(self, vectors: np.ndarray):
    self.vectors = vectors

  def __len__(self) -> int:
    return len(self.vectors)

  def __getitem__(self, index: int) -> contract.Example:
    return {"inputs": self.vectors[contract.check_index(index, len(self))]}


class RandomVectors:
  """An unlabelled dataset of Gaussian vectors, one fixed draw per split."""

  num_classes = contract.UNLABELLED
  class_names = ()

  def __init__(self, name: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    self.name = name
    self._splits = {s: rng.normal(size=(SIZES[s], DIM)).astype(np.float32)
                    for s in contract.SPLITS}

  def source(self, split: str) -> VectorSource:
    return VectorSource(self._splits[contract.check_split(split, self.name)])


def dataset(data_config) -> RandomVectors:
  return RandomVectors(data_config.name, int(data_config.get("seed", 0)))


class Denoiser(nn.Module):

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train
    return nn.Dense(DIM)(nn.relu(nn.Dense(16)(x)))


def build_model(model_config, num_classes: int) -> Denoiser:
  del model_config
  if num_classes != contract.UNLABELLED:
    raise ValueError(f"The denoiser reads unlabelled data; got num_classes={num_classes}.")
  return Denoiser()


class DenoiseTask:
  """Reconstruct `inputs` from `inputs + 0.1 * noise`: the loss is the mean squared error."""

  term_names = ()

  def __init__(self, config):
    self.config = config
    self.dataset = dataset(config.data)
    self.model = build_model(config.model, self.dataset.num_classes)

  def init_variables(self, rng: jax.Array) -> dict:
    return dict(self.model.init(rng, jnp.zeros((1, DIM), jnp.float32)))

  def terms_fn(self, names):
    del names  # No named terms: the task loss is the whole loss.

    def fn(params, model_state, batch, rng):
      clean = jnp.asarray(batch["inputs"], jnp.float32)
      noisy = clean + 0.1 * jax.random.normal(rng, clean.shape)
      mse = jnp.mean(jnp.square(self.model.apply({"params": params}, noisy) - clean))
      return mse, {}, {"mse": mse}, model_state

    return fn

  def _mse(self, params, split: str) -> float:
    clean = self.dataset.source(split).read_batch(range(SIZES[split]))["inputs"]
    return float(np.mean(np.square(np.asarray(self.model.apply({"params": params}, clean))
                                   - clean)))

  def evaluate(self, params, model_state) -> dict[str, float]:
    del model_state
    return {"mse": self._mse(params, "validation")}

  def report(self, workdir, params, model_state, step: int) -> dict:
    del model_state
    report = {"step": int(step), "test_mse": self._mse(params, "test")}
    if jax.process_index() == 0:
      run_dir.write_report(workdir, report)
    return report
