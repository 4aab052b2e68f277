"""The codec task trained through gcnet.train.loop (tiny, a few steps, a periodic validation), its
report, and the gcnet.cli.codec tool."""

import json
import math
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
import soundfile

from tests.data.audio.codec_data_testutil import tone, write_fsdd_like
from gcnet import tasks
from gcnet.train import loop
from tests.reliability import procs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
  """A tiny DSL codec trained for 3 steps on generated FSDD-style clips, validated at step 2:
  `(workdir, config, report)`."""
  from experiments import codec_dsl  # pylint: disable=g-import-not-at-top
  root = tmp_path_factory.mktemp("codec_run")
  write_fsdd_like(str(root / "fsdd"))
  config = codec_dsl.get_config("dsl_budget0.3,fsdd,soundstream_loss,runlocal")
  config.data.source_dir = str(root / "fsdd")
  config.data.test_speakers = ("carol",)
  config.data.validation_speakers = ("dave",)
  config.data.background_dirs = ("",)
  config.train.num_steps = 3
  config.train.batch_size = 4
  config.mesh.data = 1  # One of the 8 simulated devices: a smaller compile.
  config.train.log_every_steps = 1
  config.eval.batch_size = 4
  config.eval.max_seconds = 2.0
  config.eval.timing_seconds = 0.5
  config.eval.every_steps = 2
  # rbg keys compile much faster than threefry on CPU (init and k-means draws).
  previous = jax.config.jax_default_prng_impl
  jax.config.update("jax_default_prng_impl", "rbg")
  try:
    report = loop.train_and_evaluate(config, str(root / "work"), tasks.get_task(config))
  finally:
    jax.config.update("jax_default_prng_impl", previous)
  return str(root / "work"), config, report


def test_codec_trains_through_the_loop_and_reports(trained_run):
  workdir, config, report = trained_run
  assert json.loads(open(os.path.join(workdir, "report.json")).read()) == json.loads(
      json.dumps(report))
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))]
  train = [l for l in lines if "term/mel" in str(l)]
  assert len(train) == 3, lines
  flat = json.dumps(train[-1])
  for key in ("term/mel", "term/waveform_l1", "term/commitment", "term/routing_entropy",
              "term/routing_budget", "light_fraction", "si_sdr"):
    assert key in flat, key
  q = report["quality"]
  assert report["pathway"] == "dsl" and report["split"] == "test"
  assert 0.0 <= q["light_fraction"] <= 1.0 and q["segments"] > 0
  for variant in ("codec", "forced_heavy", "forced_light"):
    assert np.isfinite(q[variant]["si_sdr"]) and q[variant]["mel_distance"] > 0
  # Tiny codec: 4 quantizers x log2(32) bits x 8000 / 40 frames/s.
  assert report["bitrate_bps"] == pytest.approx(4 * 5 * 200)
  c = report["compute"]
  assert c["ratio"]["params"] > 1 and c["ratio"]["flops"] > 1
  assert c["heavy"]["params"] > c["light"]["params"] > 0
  assert c["expected_flops_per_s"] <= c["heavy_only_flops_per_s"]
  t = report["decode_time"]
  assert t["decoder_dsl_s"] > 0 and t["decoder_heavy_only_s"] > 0
  # The quantizer's EMA state went through TrainState.model_state into the checkpoint.
  state = procs.restore(workdir, config)
  assert int(state.step) == 3
  assert bool(state.model_state["quantizer"]["quantizer"]["initialized"])


def test_codec_run_logs_periodic_validation_metrics(trained_run):
  workdir, _, _ = trained_run
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))]
  validation = [l for l in lines if any(k.startswith("validation/") for k in l)]
  assert [l["step"] for l in validation] == [2], lines
  row = validation[0]
  assert sorted(k for k in row if k.startswith("validation/")) == [
      "validation/light_fraction", "validation/mel_distance", "validation/si_sdr",
      "validation/speech_pesq", "validation/speech_stoi"]
  assert 0.0 <= row["validation/light_fraction"] <= 1.0
  assert row["validation/mel_distance"] > 0 and np.isfinite(row["validation/si_sdr"])


def test_codec_cli_codes_a_wav_of_another_rate(trained_run, tmp_path):
  workdir, _, _ = trained_run
  rate = 16000
  wave = np.concatenate([tone(0.3, rate, 220), np.zeros(rate // 4, np.float32),
                         tone(0.2, rate, 330)])
  src, dst, rep = (str(tmp_path / n) for n in ("in.wav", "out.wav", "r.json"))
  soundfile.write(src, wave, rate)
  env = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS="cpu", JAX_DEFAULT_PRNG_IMPL="rbg")
  run = subprocess.run([sys.executable, "-m", "gcnet.cli.codec", f"--workdir={workdir}",
                        f"--input={src}", f"--output={dst}", f"--report={rep}"],
                       capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
  assert run.returncode == 0, run.stderr[-3000:]
  assert "light fraction" in run.stdout
  assert f"resampled from {rate} Hz to the codec's 8000 Hz" in run.stdout
  out, out_rate = soundfile.read(dst)
  assert out_rate == rate and out.shape == wave.shape
  r = json.load(open(rep))
  assert r["input_sample_rate"] == rate and r["codec_sample_rate"] == 8000
  # Segments of 160 samples at 8 kHz over the resampled input.
  assert len(r["routes"]) == math.ceil(wave.size / 2 / 160)
  assert r["light_fraction"] == pytest.approx(np.mean([x == "light" for x in r["routes"]]))
  assert np.isfinite(r["si_sdr"]) and r["mel_distance"] > 0
  with pytest.raises(subprocess.CalledProcessError):
    subprocess.run([sys.executable, "-m", "gcnet.cli.codec", f"--workdir={tmp_path}",
                    f"--input={src}", f"--output={dst}"], check=True, capture_output=True,
                   env=env, cwd=REPO, timeout=600)


def test_weights_directory_loads_like_the_run(trained_run, tmp_path):
  from gcnet.runtime import weights  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.load import load_run  # pylint: disable=g-import-not-at-top
  workdir, _, _ = trained_run
  out = str(tmp_path / "weights")
  summary = weights.save_weights(workdir, out)
  assert summary["step"] == 3 and summary["params"] > 0
  run, small = load_run(workdir, with_dataset=False), load_run(out, with_dataset=False)
  assert small.kind == "codec" and small.step == 3
  assert small.class_names == [] and run.class_names == []   # no labels: one representation
  for a, b in zip(jax.tree.leaves(run.variables), jax.tree.leaves(small.variables)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  # No optimizer state: smaller than the training checkpoint.
  ckpt = os.path.join(workdir, "checkpoints", "3", "state")
  full = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(ckpt) for n in ns)
  assert summary["bytes"] < full
  with pytest.raises(ValueError, match="not empty"):
    weights.save_weights(workdir, out)


def test_switch_calibration_writes_weights_that_route_the_chosen_fraction(trained_run, tmp_path):
  from gcnet import data as data_lib  # pylint: disable=g-import-not-at-top
  from gcnet.models.codec import StagedCodec  # pylint: disable=g-import-not-at-top
  from gcnet.runtime import weights  # pylint: disable=g-import-not-at-top
  from gcnet.runtime.load import load_run  # pylint: disable=g-import-not-at-top
  from gcnet.tasks import codec_calibrate as cc  # pylint: disable=g-import-not-at-top
  workdir, _, _ = trained_run
  run = load_run(workdir)
  result = cc.calibrate(run, "validation", light_fractions=(1.0, 0.5), pesq_tolerance=-1.0,
                        min_light_fraction=0.5)   # nothing is within a negative tolerance
  assert [r["light_fraction"] for r in result["rows"]] == [1.0, 0.5, 0.0]
  assert not result["chosen"]["meets_tolerance"] and result["chosen"]["light_fraction"] >= 0.5
  out = str(tmp_path / "calibrated")
  weights.save_weights(workdir, out, params=result["params"],
                       record={"switch_calibration": {"chosen": result["chosen"]}})
  calibrated = load_run(out, with_dataset=False)
  batches = list(data_lib.eval_batches(run.dataset, "validation",
                                       batch_size=run.config.eval.batch_size))
  staged = StagedCodec(calibrated.model, calibrated.variables)
  heavy = np.concatenate([staged(b["inputs"])[1]["heavy"][b["mask"]].reshape(-1)
                          for b in batches])
  assert heavy.size == result["segments"]
  assert 1 - heavy.mean() == pytest.approx(result["chosen"]["light_fraction"], abs=1e-9)
  record = json.loads(open(os.path.join(out, "weights.json")).read())
  assert record["switch_calibration"]["chosen"]["threshold"] == result["chosen"]["threshold"]
  with pytest.raises(ValueError, match="tree"):
    weights.save_weights(workdir, str(tmp_path / "bad"), params={"switch": {}})


def test_a_warm_start_reads_its_source_run_and_refuses_one_that_is_not_heavy_only(trained_run):
  workdir, config, _ = trained_run
  config = config.copy_and_resolve_references()
  config.warm_start.workdir = os.path.relpath(workdir)  # A relative path works.
  with pytest.raises(ValueError, match="is a 'dsl' codec; it must be a heavy-only run"):
    tasks.get_task(config).init_variables(jax.random.key(0))


@pytest.mark.parametrize("content,reason", [(b"", "empty"), (b"RIFF junk" * 50, "Cannot read")])
def test_codec_cli_bad_input_is_one_line_naming_the_file(tmp_path, content, reason):
  src = tmp_path / "bad.wav"
  src.write_bytes(content)
  env = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS="cpu")
  run = subprocess.run([sys.executable, "-m", "gcnet.cli.codec", f"--workdir={tmp_path}",
                        f"--input={src}", f"--output={tmp_path / 'out.wav'}"],
                       capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
  lines = [l for l in run.stderr.splitlines() if l.startswith("error:")]
  assert run.returncode == 1 and len(lines) == 1, run.stderr[-2000:]
  assert str(src) in lines[0] and reason in lines[0]
