"""Initial variables of a task's model, from one training example."""

import jax
import numpy as np


def init_variables(model, dataset, rng: jax.Array, sown=("gate",)) -> dict:
  """`model.init` on a zero batch `[1, ...]` shaped like `dataset.source("train")[0]["inputs"]`,
  without the collections in `sown` (statistics the model sows afresh at every call).

  Returns:
    `{"params": ..., **model_state}` (`Task.init_variables`).
  """
  example = dataset.source("train")[0]["inputs"]
  dummy = np.zeros((1, *np.shape(example)), np.asarray(example).dtype)
  variables = model.init({"params": rng, "dropout": rng}, dummy, train=False)
  return {k: v for k, v in variables.items() if k not in sown}
