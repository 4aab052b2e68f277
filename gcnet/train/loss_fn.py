"""Builds `loss_fn(params, model_state, batch, rng) -> (loss, (metrics, new_model_state))`."""

from gcnet.train import objective


def make_loss_fn(model, config, num_classes: int):
  """The loss of a classification model (GC or ungated), applying `config.loss` weights.

  `config.loss.task = "codec"` selects the unsupervised codec objective (`codec_loss`) instead.
  """
  if config.loss.get("task", "classification") == "codec":
    from gcnet.train import codec_loss  # pylint: disable=g-import-not-at-top
    return codec_loss.make_codec_loss_fn(model, config)
  objective.check_terms(config.loss)

  def loss_fn(params, model_state, batch, rng):
    variables = {"params": params, **model_state}
    mutable = ["gate", *model_state.keys()]
    logits, collections = model.apply(variables, batch["inputs"], train=True, mutable=mutable,
                                      rngs={"dropout": rng})
    loss, metrics = objective.classification_objective(logits, collections, batch, config.loss,
                                                       num_classes)
    new_model_state = {k: collections[k] for k in model_state}
    return loss, (metrics, new_model_state)

  return loss_fn
