"""End-of-training report of a codec run: quality, routing, compute, bitrate and decode time.

    python -m gcnet.cli.codec_report --workdir=RUN [--max_seconds=60] [--baseline_workdir=HEAVY]
    # (re)writes RUN/report.json from the latest checkpoint
    python -m gcnet.cli.codec_report --summary=RUN1,RUN2,... [--plot=quality.png]

On `config.eval.split` (the speaker-held-out test set by default), in crops of
`config.data.eval_crop_seconds`:

- quality of the hard-routed codec (`StagedCodec`) and, for DSL models, of the same model forced
  through the heavy and through the light decoder: over the whole split (the crops joined in order)
  on its speech-active and its quiet parts (`gcnet.audio.stream_quality`: PESQ narrow-band at 8 kHz,
  STOI, multi-scale mel distance, SI-SDR; active = frames at or above `config.eval.active_db` dBFS,
  default -40), plus the crop means of SI-SDR and mel distance;
- routing: light fraction over all segments and over speech and quiet segments, and the mean
  routing entropy of the switch (nats; its maximum is log 2);
- compute: parameters and FLOPs per second of audio of the encoder, heavy and light decoders (XLA
  cost analysis and an analytic MAC count, `codec.codec_compute`), their ratios, and the expected
  FLOPs per second at the measured light fraction;
- bitrate: `n_q * log2(codebook_size) * frame rate`;
- decode time (DSL models): wall time of hard-routed staged decoding vs the same model decoding every
  segment with the heavy decoder, decoders alone and end to end (median of repeats, after a warm-up).
"""

import math
import time

import jax
import numpy as np

from gcnet import data as data_lib
from gcnet import ops
from gcnet.audio import activity
from gcnet.audio import quality
from gcnet.audio import stream_quality
from gcnet.nn.gated_compression import GATE_COLLECTION
from gcnet.nn.stats import find_stats
from gcnet.models.codec import StagedCodec, bitrate, codec_compute, expected_flops_per_s
from gcnet.train import run_dir


def quality_metrics(target: np.ndarray, recon: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
  """Per-crop `si_sdr` and `mel_distance` of `[B, T]` signals, float32 `[B]` each."""
  return {"si_sdr": np.asarray(quality.si_sdr(target, recon)),
          "mel_distance": np.asarray(quality.mel_distance(target, recon, sample_rate))}


def _mean(values: list[np.ndarray]) -> float:
  x = np.concatenate(values) if values else np.zeros(0)
  x = x[np.isfinite(x)]
  return float(np.mean(x)) if x.size else float("nan")


def evaluate_quality(model, variables, batches, eval_config) -> dict:
  """Quality and routing over eval batches `{"inputs" [B, T], "mask" [B]}` that tile a stream in
  order (see the module doc): per variant the crop means of `si_sdr` and `mel_distance`, and
  `speech` / `quiet` metrics of the whole stream (`gcnet.audio.stream_quality`)."""
  n_q = int(eval_config.get("n_q", 0)) or None
  with_pesq = bool(eval_config.get("pesq", True))
  threshold_db = float(eval_config.get("active_db", activity.THRESHOLD_DB))
  dsl = model.pathway == "dsl"
  variants = {"codec": None, "forced_heavy": "heavy", "forced_light": "light"} if dsl else {
      "codec": None}
  apply = jax.jit(lambda v, x, force: model.apply(v, x, n_q=n_q, force=force)["recon"],
                  static_argnames="force")
  staged = StagedCodec(model, variables) if dsl else None
  scores = {k: {} for k in variants}
  recons = {k: [] for k in variants}
  targets, routes, speech, entropies, seconds = [], [], [], [], 0.0

  @jax.jit
  def switch_entropy(v, x):
    """`[B, S]` binary entropy (nats) of the switch's heavy probability per segment."""
    _, cols = model.apply(v, x, n_q=n_q, mutable=[GATE_COLLECTION])
    return find_stats(cols[GATE_COLLECTION], ops.SwitchStats)[0].entropy

  for batch in batches:
    keep = np.asarray(batch["mask"], bool)
    wave = np.asarray(batch["inputs"], np.float32)
    for name, force in variants.items():
      if name == "codec" and dsl:
        recon, counts = staged(wave, n_q)
        routes.append(np.asarray(counts["heavy"])[keep])
        entropies.append(np.asarray(switch_entropy(variables, wave))[keep].reshape(-1))
      else:
        recon = np.asarray(apply(variables, wave, force))
      recons[name].append(np.asarray(recon)[keep].reshape(-1))
      for k, v in quality_metrics(wave[keep], recon[keep], model.sample_rate).items():
        scores[name].setdefault(k, []).append(v)
    targets.append(wave[keep].reshape(-1))
    speech.extend(stream_quality.part_masks(w, model.sample_rate, model.segment_samples,
                                            threshold_db) for w in wave[keep])
    seconds += keep.sum() * wave.shape[1] / model.sample_rate
  target = np.concatenate(targets)
  out = {}
  for name, s in scores.items():
    whole = stream_quality.stream_quality(target, np.concatenate(recons[name]), model.sample_rate,
                                          threshold_db, with_pesq)
    out[name] = {**{k: _mean(v) for k, v in s.items()},
                 "speech": whole["speech"], "quiet": whole["quiet"]}
    out["speech_fraction"] = whole["speech_fraction"]
  out["seconds"] = seconds
  out["active_db"] = threshold_db
  if dsl:
    heavy = np.concatenate(routes).astype(bool)
    active = np.stack(speech)[:, :heavy.shape[1]]
    out["light_fraction"] = float(1.0 - heavy.mean())
    out["light_fraction_speech"] = float(1.0 - heavy[active].mean()) if active.any() else None
    out["light_fraction_quiet"] = float(1.0 - heavy[~active].mean()) if (~active).any() else None
    out["speech_segment_fraction"] = float(active.mean())
    out["segments"] = int(heavy.size)
    out["routing_entropy"] = float(np.mean(np.concatenate(entropies)))
    out["routing_entropy_max"] = float(np.log(2.0))
  else:
    out["light_fraction"] = 1.0 if model.pathway == "light" else 0.0
  return out


def _median_time(fn, repeats: int) -> float:
  fn()  # Warm-up: compiles every bucket shape that `fn` uses.
  times = []
  for _ in range(max(1, repeats)):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return float(np.median(times))


def decode_timing(model, variables, wave: np.ndarray, repeats: int = 3) -> dict:
  """Seconds to decode `wave [B, T]`: hard-routed staged vs heavy decoder on every segment (DSL
  models), decoders alone and end to end; for single-decoder models, end to end only."""
  wave = np.asarray(wave, np.float32)
  audio_s = wave.size / model.sample_rate
  if model.pathway != "dsl":
    apply = jax.jit(lambda v, x: model.apply(v, x)["recon"])
    total = _median_time(lambda: jax.block_until_ready(apply(variables, wave)), repeats)
    return {"audio_seconds": audio_s, "end_to_end_s": total}
  staged = StagedCodec(model, variables)
  windows, heavy = staged.route(wave)
  all_heavy = np.ones_like(heavy)
  dec_dsl = _median_time(lambda: staged.decode(windows, heavy), repeats)
  dec_heavy = _median_time(lambda: staged.decode(windows, all_heavy), repeats)

  def heavy_end_to_end():
    return staged.decode(staged.route(wave)[0], all_heavy)

  e2e_dsl = _median_time(lambda: staged(wave), repeats)
  e2e_heavy = _median_time(heavy_end_to_end, repeats)
  return {"audio_seconds": audio_s, "light_fraction": float(1.0 - heavy.mean()),
          "decoder_dsl_s": dec_dsl, "decoder_heavy_only_s": dec_heavy,
          "decoder_reduction": 1.0 - dec_dsl / dec_heavy,
          "end_to_end_dsl_s": e2e_dsl, "end_to_end_heavy_only_s": e2e_heavy,
          "end_to_end_reduction": 1.0 - e2e_dsl / e2e_heavy}


def codec_report(config, model, variables, dataset, step: int) -> dict:
  """The report dict of a codec run (see the module docstring)."""
  ev = config.eval
  split = ev.get("split", "test")
  batches = list(data_lib.eval_batches(dataset, split, batch_size=ev.batch_size))
  max_s = float(ev.get("max_seconds", 0.0))
  if max_s > 0:
    per_batch = ev.batch_size * dataset.eval_crop_samples / model.sample_rate
    batches = batches[:max(1, int(math.ceil(max_s / per_batch)))]
  report = {"experiment": config.experiment, "variant": config.get("variant", ""), "step": step,
            "pathway": model.pathway, "split": split, "sample_rate": model.sample_rate}
  report["quality"] = evaluate_quality(model, variables, batches, ev)
  profile = codec_compute(model)
  light = report["quality"]["light_fraction"]
  report["compute"] = {k: profile[k] for k in ("encoder", "heavy", "light", "ratio",
                                               "quantizer_macs_per_s")}
  report["compute"]["expected_flops_per_s"] = expected_flops_per_s(profile, light)
  report["compute"]["heavy_only_flops_per_s"] = expected_flops_per_s(profile, 0.0)
  report["bitrate_bps"] = bitrate(model, int(ev.get("n_q", 0)) or None)
  timing_crops = max(1, int(ev.get("timing_seconds", 20.0) * model.sample_rate
                            // dataset.eval_crop_samples))
  wave = np.concatenate([b["inputs"][b["mask"]] for b in batches])[:timing_crops]
  report["decode_time"] = decode_timing(model, variables, wave, int(ev.get("timing_repeats", 3)))
  baseline = ev.get("baseline_workdir", "")
  if baseline and run_dir.has_report(baseline):
    base = run_dir.read_report(baseline)["quality"]["codec"]
    report["vs_baseline"] = {"workdir": baseline, **compare(report["quality"]["codec"], base)}
  return report


def compare(mine: dict, base: dict) -> dict:
  """Speech-part differences of a codec's quality from a baseline's (both `quality["codec"]`):
  relative mel distance, and PESQ / STOI / SI-SDR differences."""
  m, b = mine["speech"], base["speech"]
  return {"speech_mel_distance_rel": m["mel_distance"] / b["mel_distance"] - 1,
          **{f"speech_{k}_diff": m[k] - b[k] for k in ("pesq", "stoi", "si_sdr")}}


def _part_line(name: str, q: dict) -> str:
  return (f"  {name} ({q['seconds']:.0f} s): PESQ {q['pesq']:.2f}, STOI {q['stoi']:.3f}, mel "
          f"distance {q['mel_distance']:.3f}, SI-SDR {q['si_sdr']:.2f} dB")


def format_report(r: dict) -> str:
  q, c = r["quality"]["codec"], r["compute"]
  light = f"light fraction {r['quality']['light_fraction']:.3f}"
  if "light_fraction_speech" in r["quality"]:
    light += (f" (speech {r['quality']['light_fraction_speech']:.3f}, quiet "
              f"{r['quality']['light_fraction_quiet']:.3f}), routing entropy "
              f"{r['quality']['routing_entropy']:.3f} nats")
  lines = [f"codec report ({r['variant']}, step {r['step']}, {r['split']}, "
           f"{r['quality']['seconds']:.0f} s): {light}",
           _part_line("speech", q["speech"]), _part_line("quiet", q["quiet"]),
           f"  light decoder: {c['ratio']['params']:.1f}x fewer params, {c['ratio']['flops']:.1f}x "
           f"fewer FLOPs; expected {c['expected_flops_per_s'] / 1e6:.1f} MFLOP/s vs heavy-only "
           f"{c['heavy_only_flops_per_s'] / 1e6:.1f}; bitrate {r['bitrate_bps'] / 1000:.1f} kbps"]
  t = r["decode_time"]
  if "decoder_reduction" in t:
    lines.append(f"  decode time: decoders {t['decoder_dsl_s'] * 1e3:.1f} ms vs heavy-only "
                 f"{t['decoder_heavy_only_s'] * 1e3:.1f} ms ({100 * t['decoder_reduction']:.1f}% "
                 f"less); end to end {100 * t['end_to_end_reduction']:.1f}% less")
  return "\n".join(lines)


def write_codec_report(config, workdir, model, params, model_state, dataset, step,
                       report_file: str = run_dir.REPORT_FILE) -> dict:
  """Evaluates the final codec and writes `workdir/report.json` (process 0)."""
  variables = jax.tree.map(np.asarray, {"params": params,
                                        "quantizer": model_state["quantizer"]})
  report = codec_report(config, model, variables, dataset, step)
  if jax.process_index() == 0:
    run_dir.write_report(workdir, report, report_file)
    print(format_report(report), flush=True)
  return report


def summarize(workdirs, plot_path: str = "") -> str:
  """A markdown table of the runs' reports; with `plot_path`, a PNG of quality vs light fraction."""
  rows, points = [], []
  head = ("| run | light fraction (speech / quiet) | speech PESQ | speech STOI | speech mel distance | "
          "speech SI-SDR dB | quiet mel distance | routing entropy | decoder time vs heavy-only |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
  for w in workdirs:  # A workdir (its report.json) or a report file.
    r = run_dir.read_report(w)
    qa, t = r["quality"], r["decode_time"]
    sp, qu = qa["codec"]["speech"], qa["codec"]["quiet"]
    light = qa["light_fraction"]
    parts = (f" ({qa['light_fraction_speech']:.3f} / {qa['light_fraction_quiet']:.3f})"
             if "light_fraction_speech" in qa else "")
    entropy = f"{qa['routing_entropy']:.3f}" if "routing_entropy" in qa else "-"
    time_cut = (f"{100 * t['decoder_reduction']:.1f}% less" if "decoder_reduction" in t else "-")
    rows.append(f"| {r['variant']} (step {r['step']}) | {light:.3f}{parts} | {sp['pesq']:.2f} | "
                f"{sp['stoi']:.3f} | {sp['mel_distance']:.3f} | {sp['si_sdr']:.2f} | "
                f"{qu['mel_distance']:.3f} | {entropy} | {time_cut} |")
    points.append((r["variant"], light, sp["mel_distance"], sp["pesq"]))
  if plot_path:
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, i, label in ((axes[0], 2, "speech mel distance (lower is better)"),
                         (axes[1], 3, "speech PESQ narrow-band (higher is better)")):
      for p in points:
        ax.scatter(p[1], p[i], color="C0" if p[0].startswith("dsl") else "C1")
        ax.annotate(p[0], (p[1], p[i]), fontsize=8, xytext=(3, 3), textcoords="offset points")
      ax.set_xlabel("light fraction (test segments)")
      ax.set_ylabel(label)
      ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(plot_path, dpi=120)
  return "\n".join([head] + rows)

