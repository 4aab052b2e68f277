"""A trained run's parameters alone, as a small run directory that `load_run` (and every tool that
takes `--workdir`) reads like the run itself.

    save_weights("runs/codec_dsl", "weights/codec_dsl")     # python -m gcnet.cli.export --format=weights
    load_run("weights/codec_dsl")                          # config, model, params, model state

Layout: `DIR/config.json` (the run's config), `DIR/report.json` (if the run has one) and
`DIR/checkpoints/<step>/state`, an Orbax PyTree of `{"step", "params", "model_state"}` in float32,
without the optimizer state (a third of the size of a training checkpoint with AdamW), so it can be
committed to a repository. Training cannot resume from it.
"""

import json
import os
import shutil

import jax
import numpy as np
import orbax.checkpoint as ocp
from etils import epath

from gcnet.runtime import load
from gcnet.train import run_dir


def save_weights(workdir, output, params=None, record: dict | None = None) -> dict:
  """Writes the parameters and model state of `workdir`'s newest checkpoint to `output`.

  Args:
    workdir: a run directory (or a weights directory).
    output: the new directory.
    params: parameters to write instead of the checkpoint's (e.g. a calibrated switch), same tree.
    record: more JSON fields for `weights.json` (how `params` were derived).
  Returns:
    `{"output", "step", "bytes", "params"}`: the directory, the step, the checkpoint's size on disk
    and the number of parameters.
  Raises:
    ValueError: `output` exists and is not empty (nothing is overwritten).
  """
  run = load.load_run(workdir, with_dataset=False)
  out = run_dir.resolve(output)
  if out.exists() and any(out.iterdir()):
    raise ValueError(f"{output} exists and is not empty: choose a new directory or remove it.")
  as_float32 = lambda x: np.asarray(x, np.float32) if np.issubdtype(np.asarray(x).dtype,
                                                                    np.floating) else np.asarray(x)
  if params is not None and (jax.tree.structure(params) != jax.tree.structure(run.params)):
    raise ValueError(f"The parameters to write do not have the tree of {workdir}'s.")
  tree = {"step": np.asarray(run.step, np.int32),
          "params": jax.tree.map(as_float32, run.params if params is None else params),
          "model_state": jax.tree.map(as_float32, run.model_state)}
  state_dir = run_dir.state_path(out, run.step)
  state_dir.parent.mkdir(parents=True, exist_ok=True)
  ocp.PyTreeCheckpointer().save(state_dir, tree)
  src = epath.Path(run.workdir)
  run_dir.config_path(out).write_text(run_dir.config_path(src).read_text())
  if run_dir.has_report(src):
    shutil.copyfile(run_dir.report_path(src), run_dir.report_path(out))
  size = sum(os.path.getsize(os.path.join(root, name))
             for root, _, names in os.walk(str(state_dir)) for name in names)
  count = sum(int(np.size(x)) for x in jax.tree.leaves(run.params))
  summary = {"output": str(output), "step": int(run.step), "bytes": int(size), "params": count}
  (out / "weights.json").write_text(json.dumps({"source_workdir": str(workdir), **summary,
                                                **(record or {})}, indent=2))
  return summary
