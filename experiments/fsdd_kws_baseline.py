"""The ungated baseline of the FSDD keyword-spotting experiment: same DS-CNN, data and budget."""

from experiments import common
from experiments import fsdd_kws_gc


def get_config(arg: str = ""):
  config = fsdd_kws_gc.get_config(arg)
  with config.unlocked():
    config.experiment = "fsdd_kws_baseline"
    config.model.gated = False
    config.loss.terms = {}
  return common.lock(config)
