"""Calibrating a DSL codec's switch on validation: how many segments go heavy.

A switch trained by `routing_prediction` ranks segments by how far the light decoder falls behind,
but its logit-0 threshold is a classifier's, not an operating point: with a `rho = 0.2` budget it
sent 92-97% of the test streams light. Like the GC gate's theta (`gcnet.eval.threshold_sweep`),
the threshold is chosen on validation:

1. On the validation stream, every segment's switch logit and both decoders' outputs (decoders see
   only their segment's window, so any routing is a per-segment choice between the two).
2. For each candidate light fraction `f`, the `f`-quantile of the logits as the threshold (the
   `1 - f` segments of highest logit go heavy) and, for reference, a random routing of the same
   fraction; the composed stream's speech PESQ, STOI and mel distance (`stream_quality`).
3. The largest light fraction whose speech PESQ is within `pesq_tolerance` of heavy-only and mel
   distance within `mel_tolerance` (relative); if that is below `min_light_fraction` (a DSL that
   saves too little), the candidate with the highest PESQ among those at least that light.
4. The threshold moved into the switch's output bias (`logit - t`), so the calibrated parameters
   route at the chosen operating point everywhere (CLI, staged decoding, export).

    python -m gcnet.cli.calibrate_switch --workdir=RUN --output=weights/codec_dsl
"""

import numpy as np
import jax

from gcnet import data as data_lib
from gcnet import ops
from gcnet.audio import activity
from gcnet.audio import stream_quality
from gcnet.nn.stats import STATS_COLLECTION, find_stats

DEFAULT_LIGHT_FRACTIONS = (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5, 0.0)


def segment_outputs(model, variables, batches) -> dict[str, np.ndarray]:
  """Per segment of the stream the batches tile, in order.

  Returns:
    `{"target" [T], "heavy" [N, L], "light" [N, L], "logit" [N]}`, `N` segments of `L =
    model.segment_samples` samples (`T = N * L`, the padded stream).
  """
  if model.pathway != "dsl":
    raise ValueError(f"Switch calibration needs a DSL codec (pathway='dsl'), not "
                     f"{model.pathway!r}.")
  length = model.segment_samples

  @jax.jit
  def run(v, x):
    heavy = model.apply(v, x, force="heavy")["recon"]
    light = model.apply(v, x, force="light")["recon"]
    _, cols = model.apply(v, x, mutable=[STATS_COLLECTION])
    return heavy, light, find_stats(cols[STATS_COLLECTION], ops.SwitchStats)[0].logit

  parts = {"target": [], "heavy": [], "light": [], "logit": []}
  for batch in batches:
    keep = np.asarray(batch["mask"], bool)
    wave = np.asarray(batch["inputs"], np.float32)
    if wave.shape[1] % length:
      raise ValueError(f"Evaluation crops of {wave.shape[1]} samples are not whole segments of "
                       f"{length}: set config.data.eval_crop_seconds to a multiple of "
                       f"{length / model.sample_rate:g} s.")
    heavy, light, logit = (np.asarray(a)[keep] for a in run(variables, wave))
    parts["target"].append(wave[keep].reshape(-1))
    parts["heavy"].append(heavy.reshape(-1, length))
    parts["light"].append(light.reshape(-1, length))
    parts["logit"].append(logit.reshape(-1))
  if not parts["logit"]:
    raise ValueError("The calibration split holds no audio.")
  return {k: np.concatenate(v) for k, v in parts.items()}


def threshold_for(logits: np.ndarray, light_fraction: float) -> float:
  """The logit threshold that routes `light_fraction` of `logits` light (heavy iff logit > t)."""
  if not 0.0 <= light_fraction <= 1.0:
    raise ValueError(f"A light fraction is in [0, 1]; got {light_fraction}.")
  ordered = np.sort(np.asarray(logits, np.float64))
  k = int(round(light_fraction * ordered.size))   # segments at or below t
  if k <= 0:
    return float(ordered[0] - 1.0)
  if k >= ordered.size:
    return float(ordered[-1] + 1.0)
  return float((ordered[k - 1] + ordered[k]) / 2.0)


def compose(seg: dict[str, np.ndarray], heavy_mask: np.ndarray) -> np.ndarray:
  """The stream `[T]` with segment `i` from the heavy decoder where `heavy_mask[i]`, else light."""
  return np.where(np.asarray(heavy_mask, bool)[:, None], seg["heavy"], seg["light"]).reshape(-1)


def sweep(seg: dict[str, np.ndarray], sample_rate: int, light_fractions=DEFAULT_LIGHT_FRACTIONS,
          seed: int = 0, threshold_db: float = activity.THRESHOLD_DB) -> list[dict]:
  """One row per light fraction: the switch's routing and a random one, speech quality of each.

  Row: `{"light_fraction", "threshold", "switch": {...}, "random": {...}}`, each routing's dict
  `{"light_fraction", "pesq", "stoi", "mel_distance"}` on the speech-active part of the stream.
  """
  target, logits = seg["target"], seg["logit"]
  rng = np.random.default_rng(seed)
  order = rng.permutation(logits.size)
  rows = []
  for f in sorted(set(float(x) for x in light_fractions), reverse=True):
    t = threshold_for(logits, f)
    random_heavy = np.zeros(logits.size, bool)
    random_heavy[order[:logits.size - int(round(f * logits.size))]] = True
    row = {"light_fraction": f, "threshold": t}
    for name, heavy in (("switch", logits > t), ("random", random_heavy)):
      if name == "random" and f in (0.0, 1.0):
        row[name] = row["switch"]
        continue
      q = stream_quality.stream_quality(target, compose(seg, heavy), sample_rate,
                                        threshold_db)["speech"]
      row[name] = {"light_fraction": float(1.0 - heavy.mean()), "pesq": float(q["pesq"]),
                   "stoi": float(q["stoi"]), "mel_distance": float(q["mel_distance"])}
    rows.append(row)
  return rows


def choose(rows: list[dict], pesq_tolerance: float = 0.1, mel_tolerance: float = 0.05,
           min_light_fraction: float = 0.8) -> dict:
  """The chosen row (module docstring, step 3), with `"meets_tolerance"` added."""
  heavy_only = next((r for r in rows if r["light_fraction"] == 0.0), None)
  if heavy_only is None:
    raise ValueError("The sweep needs light fraction 0.0 (heavy-only) as the reference.")
  reference = heavy_only["switch"]
  ok = [heavy_only] + [r for r in rows if r["switch"]["pesq"] >= reference["pesq"] - pesq_tolerance
                       and r["switch"]["mel_distance"] <= reference["mel_distance"]
                       * (1 + mel_tolerance)]
  lightest = max(ok, key=lambda r: r["light_fraction"])
  if lightest["light_fraction"] >= min_light_fraction:
    return {**lightest, "meets_tolerance": True}
  light_enough = [r for r in rows if r["light_fraction"] >= min_light_fraction] or rows
  return {**max(light_enough, key=lambda r: r["switch"]["pesq"]), "meets_tolerance": False}


def shift_threshold(params, threshold: float):
  """`params` with the switch's output bias lowered by `threshold` (heavy iff old logit > t)."""
  params = jax.tree.map(lambda a: a, params)   # a copy: the caller's tree stays as it was
  out = params["switch"]["switch_out"]
  out["bias"] = np.asarray(out["bias"], np.float32) - np.float32(threshold)
  return params


def calibrate(run, split: str = "validation", max_seconds: float = 0.0,
              light_fractions=DEFAULT_LIGHT_FRACTIONS, pesq_tolerance: float = 0.1,
              mel_tolerance: float = 0.05, min_light_fraction: float = 0.8) -> dict:
  """Sweep and choice on `split` of a loaded DSL run (`gcnet.runtime.load.load_run`).

  Returns:
    `{"split", "seconds", "segments", "rows", "chosen", "params"}`; `params` routes at the chosen
    light fraction.
  """
  ev = run.config.eval
  batches = list(data_lib.eval_batches(run.dataset, split, batch_size=ev.batch_size))
  if max_seconds > 0:
    per_batch = ev.batch_size * run.dataset.eval_crop_samples / run.model.sample_rate
    batches = batches[:max(1, int(np.ceil(max_seconds / per_batch)))]
  variables = jax.tree.map(np.asarray, {"params": run.params, **{  # FSQ: no codebooks
      k: v for k, v in run.model_state.items() if k == "quantizer"}})
  seg = segment_outputs(run.model, variables, batches)
  rows = sweep(seg, run.model.sample_rate, tuple(light_fractions) + (0.0,),
               threshold_db=float(ev.get("active_db", activity.THRESHOLD_DB)))
  chosen = choose(rows, pesq_tolerance, mel_tolerance, min_light_fraction)
  return {"split": split, "seconds": seg["target"].size / run.model.sample_rate,
          "segments": int(seg["logit"].size), "rows": rows, "chosen": chosen,
          "tolerances": {"pesq": pesq_tolerance, "mel_relative": mel_tolerance,
                         "min_light_fraction": min_light_fraction},
          "params": shift_threshold(run.params, chosen["threshold"])}


def format_rows(rows: list[dict]) -> str:
  """A Markdown table of the sweep."""
  lines = ["| light fraction | threshold | switch: PESQ / STOI / mel | random: PESQ / STOI / mel |",
           "| ---: | ---: | --- | --- |"]
  for r in rows:
    s, q = r["switch"], r["random"]
    lines.append(f"| {r['light_fraction']:.2f} | {r['threshold']:.3f} | {s['pesq']:.3f} / "
                 f"{s['stoi']:.3f} / {s['mel_distance']:.3f} | {q['pesq']:.3f} / {q['stoi']:.3f} "
                 f"/ {q['mel_distance']:.3f} |")
  return "\n".join(lines)
