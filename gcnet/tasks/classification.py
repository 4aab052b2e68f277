"""Classification with gates: a `K+1`-way classifier with GC layers, trained on labelled data.

Loss: cross-entropy plus the named GC/DSL terms (`classification_objective`). Periodic evaluation:
`gcnet.eval.validation_metrics` on the validation split. Report: `gcnet.eval.evaluate_run`
(calibrated on validation, measured on test) written to `workdir/report.json`.
"""

import jax

from gcnet import data as data_lib
from gcnet import eval as eval_lib
from gcnet.nn.gated_compression import GATE_COLLECTION
from gcnet.tasks import classification_objective
from gcnet.tasks.base import ModelTask
from gcnet.tasks import layer_terms
from gcnet.train import run_dir


class ClassificationTask(ModelTask):
  """The `gcnet.train.task.Task` of `config.loss.task = "classification"` (the default).

  The dataset and the model are built on first use (`config.data`, `config.model`).
  """

  term_names = classification_objective.TERMS

  def terms_fn(self, names):
    loss_config = self.config.loss
    layer_terms.check_routing_config(names, loss_config)
    model, num_classes = self.model, self.dataset.num_classes

    def fn(params, model_state, batch, rng):
      variables = {"params": params, **model_state}
      mutable = [GATE_COLLECTION, *model_state.keys()]
      logits, collections = model.apply(variables, batch["inputs"], train=True, mutable=mutable,
                                        rngs={"dropout": rng})
      task_loss, terms, metrics = classification_objective.objective(
          logits, collections, batch["label"], names, loss_config, num_classes)
      return task_loss, terms, metrics, {k: collections[k] for k in model_state}

    return fn

  def evaluate(self, params, model_state) -> dict[str, float]:
    """`accuracy`, `ungated_accuracy`, `stop_rate`, `positive_recall`, `pass_rate` (and
    `zero_fraction`) on the validation split at `config.eval.theta`."""
    del model_state  # Evaluation runs the model on "params" alone.
    batches = data_lib.eval_batches(self.dataset, "validation",
                                    batch_size=self.config.eval.batch_size,
                                    process_index=jax.process_index(),
                                    process_count=jax.process_count())
    return eval_lib.validation_metrics(self.model, params, batches, self.config.eval.theta)

  def report(self, workdir, params, model_state, step: int) -> dict:
    del model_state
    config = self.config
    report = eval_lib.evaluate_run(config, self.model, params, self.dataset, step=step,
                                   baseline_workdir=config.eval.baseline_workdir)
    if jax.process_index() == 0:
      run_dir.write_report(workdir, report)
      print(eval_lib.format_report(report), flush=True)
    return report
