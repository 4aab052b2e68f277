"""Two-stage codec training: start from a trained heavy-only codec and freeze parts of it.

Stage 1 trains a heavy-only codec (encoder, quantizer, heavy decoder). Stage 2 builds a light-only
or DSL codec of the same size, copies the stage-1 encoder, codebooks and (DSL) heavy decoder into it
(`transplant`) and trains the rest (light decoder, switch) with the copied parts frozen
(`freeze_params`): the light-only baseline and every DSL budget then share one encoder.

Parts (`FREEZABLE`): "encoder" (params), "quantizer" (the EMA codebooks, not updated; an FSQ's
projection params), "heavy" (the heavy decoder's params: `decoder` of a heavy-only codec,
`switch/heavy` of a DSL one).
"""

from typing import Sequence

import flax
import jax

FREEZABLE = ("encoder", "quantizer", "heavy")


def heavy_decoder_path(pathway: str) -> tuple[str, ...] | None:
  """Where the heavy decoder's params live in a codec of `pathway` (None: it has none)."""
  return {"heavy": ("decoder",), "dsl": ("switch", "heavy")}.get(pathway)


def check_frozen(frozen: Sequence[str], pathway: str) -> None:
  """Raises ValueError for a part that is unknown or absent from a codec of `pathway`."""
  unknown = sorted(set(frozen) - set(FREEZABLE))
  if unknown:
    raise ValueError(f"Unknown frozen codec parts {unknown}; choose among {FREEZABLE} "
                     "(config.model.frozen).")
  if "heavy" in frozen and heavy_decoder_path(pathway) is None:
    raise ValueError(f"config.model.frozen names 'heavy', but a {pathway!r} codec has no heavy "
                     "decoder; remove it.")


def transplant(variables: dict, source_params: dict, source_state: dict, pathway: str) -> dict:
  """`variables` (a fresh codec's `{"params", "quantizer"}`) with the stage-1 parts copied in.

  Args:
    variables: the new codec's initial variables (pathway `pathway`).
    source_params, source_state: a trained heavy-only codec's params and model state.
  Returns:
    new variables: encoder params and the "quantizer" collection from the source and, when the new
    codec has a heavy decoder, the source's `decoder` params there.
  Raises:
    ValueError: the shapes differ (the two codecs are not of one size).
  """
  params = flax.core.unfreeze(variables["params"])
  copies = [(("encoder",), ("encoder",))]
  if "quantizer" in params:  # FSQ: its projections are params (an RVQ keeps its codebooks as state).
    copies.append((("quantizer",), ("quantizer",)))
  heavy = heavy_decoder_path(pathway)
  if heavy is not None:
    copies.append((("decoder",), heavy))
  for src, dst in copies:
    _set(params, dst, _checked(_get(source_params, src), _get(params, dst), "/".join(dst)))
  out = dict(variables, params=params)
  if "quantizer" in variables:
    out["quantizer"] = _checked(source_state["quantizer"], variables["quantizer"], "quantizer")
  return out


def freeze_params(params: dict, frozen: Sequence[str], pathway: str) -> dict:
  """`params` with `stop_gradient` on the frozen parts' params (their gradient is exactly 0)."""
  params = dict(params)
  paths = [("encoder",)] if "encoder" in frozen else []
  if "quantizer" in frozen and "quantizer" in params:
    paths.append(("quantizer",))
  if "heavy" in frozen:
    paths.append(heavy_decoder_path(pathway))
  for path in paths:
    _set(params, path, jax.lax.stop_gradient(_get(params, path)), copy=True)
  return params


def _get(tree, path):
  for key in path:
    if key not in tree:
      raise ValueError(f"The codec has no {'/'.join(path)!r} (keys there: {sorted(tree)}).")
    tree = tree[key]
  return tree


def _set(tree, path, value, copy: bool = False):
  for key in path[:-1]:
    if copy:
      tree[key] = dict(tree[key])
    tree = tree[key]
  tree[path[-1]] = value


def _checked(source, target, name: str):
  got = jax.tree.map(lambda x: tuple(x.shape), source)
  want = jax.tree.map(lambda x: tuple(x.shape), target)
  if jax.tree.structure(got) != jax.tree.structure(want) or got != want:
    raise ValueError(f"The stage-1 codec's {name} does not fit this codec (shapes differ): "
                     "config.model.init_from must be a heavy-only run of the same size.")
  return jax.tree.map(lambda s, t: jax.numpy.asarray(s, t.dtype), source, target)
