"""What the built-in tasks share: the config, and the dataset and model built from it on first use."""

import functools

import jax
import numpy as np

from gcnet import data as data_lib
from gcnet import models
from gcnet.nn.stats import STATS_COLLECTION
from gcnet.train import precision


class ModelTask:
  """Base of a `gcnet.train.task.Task` that trains `models.build(config.model)` on
  `data.get_dataset(config.data)`.

  Attributes:
    config: the experiment config.
    sown: collections the model sows afresh at every call (statistics), left out of the initial
      variables.
  """

  sown = (STATS_COLLECTION,)

  def __init__(self, config):
    self.config = config

  @functools.cached_property
  def dataset(self):
    return data_lib.get_dataset(self.config.data)

  @functools.cached_property
  def model(self):
    return models.build(self.config.model, self.dataset.num_classes,
                        precision.compute_dtype(self.config.train))

  def init_variables(self, rng: jax.Array) -> dict:
    """`model.init` on a zero batch `[1, ...]` shaped like `dataset.source("train")[0]["inputs"]`,
    without the `sown` collections: `{"params": ..., **model_state}` (`Task.init_variables`)."""
    example = self.dataset.source("train")[0]["inputs"]
    dummy = np.zeros((1, *np.shape(example)), np.asarray(example).dtype)
    variables = self.model.init({"params": rng, "dropout": rng}, dummy, train=False)
    return {k: v for k, v in variables.items() if k not in self.sown}
