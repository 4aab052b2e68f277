"""Inputs and predictions of a loaded run's evaluation splits (host-local, one process)."""

import numpy as np

from gcnet.runtime.load import LoadedRun


def _dataset(run: LoadedRun):
  if run.dataset is None:
    raise ValueError(f"The dataset of {run.workdir} is not available here (load_run(..., "
                     "with_dataset=True) needs its data on this machine).")
  return run.dataset


def split_inputs(run: LoadedRun, split: str = "test", num: int | None = None) -> dict:
  """The first `num` examples of `split` (all when None): {"inputs" `[n, ...]`, "label" `[n]`}
  ("label" only for labelled data)."""
  source = _dataset(run).source(split)
  n = len(source) if num is None else min(int(num), len(source))
  examples = source.__getitems__(range(n)) if hasattr(source, "__getitems__") else [
      source[i] for i in range(n)]
  out = {"inputs": np.stack([e["inputs"] for e in examples])}
  if examples and "label" in examples[0]:
    out["label"] = np.asarray([e["label"] for e in examples], np.int32)
  return out


def split_predictions(run: LoadedRun, split: str, batch_size: int | None = None) -> dict:
  """`gcnet.eval.collect_predictions` of the run's model over `split` (every sample, no gating)."""
  from gcnet import data as data_lib  # pylint: disable=g-import-not-at-top
  from gcnet import eval as eval_lib  # pylint: disable=g-import-not-at-top
  batch_size = batch_size or int(run.config.eval.batch_size)
  batches = data_lib.eval_batches(_dataset(run), split, batch_size=batch_size)
  return eval_lib.collect_predictions(run.model, run.params, batches)
