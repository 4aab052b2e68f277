"""`gcnet.cli.predict` end to end: a tiny trained run on generated WAV files (any rate, any length)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from gcnet.audio import audio_io
from gcnet.data.audio import windows as aw
from gcnet.runtime.keywords import predict as cli
from gcnet.runtime.keywords import stream as stream_lib
from gcnet.runtime.keywords.spotter import load_spotter
from tests.runtime.keywords import predict_fixtures as fx

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIELDS = {"path": str, "gate": float, "stopped": bool, "label": int, "label_name": str,
          "score": float}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("kws")
  recordings = fx.write_recordings(str(root / "recordings"))
  return fx.train_tiny_run(str(root / "run"), recordings, str(root / "tfds"))


@pytest.fixture
def inputs(tmp_path):
  """Keyword and other tones at 8, 16 and 44.1 kHz; short clips and a 2.5 s one."""
  d = tmp_path / "inputs"
  d.mkdir()
  for name, digit, rate, seconds in (("a_one_8k", 1, 8000, 0.4), ("b_four_16k", 4, 16000, 0.3),
                                     ("c_two_44k", 2, 44100, 0.5), ("d_long_22k", 7, 22050, 2.5)):
    soundfile.write(str(d / f"{name}.wav"), fx.tone(digit, rate, seconds), rate, subtype="PCM_16")
  return d


def _lines(path):
  with open(path) as f:
    return [json.loads(line) for line in f]


def test_predict_files_writes_a_record_per_file_at_any_rate(run_dir, inputs, tmp_path):
  out = tmp_path / "out.jsonl"
  summary = cli.predict(workdir=run_dir, inputs=str(inputs), output=str(out))
  records = _lines(out)
  assert [os.path.basename(r["path"]) for r in records] == sorted(os.listdir(inputs))
  run = load_spotter(run_dir)
  for r in records:
    for key, kind in FIELDS.items():
      assert isinstance(r[key], kind), (key, r)
    assert 0.0 <= r["gate"] <= 1.0 and 0.0 <= r["score"] <= 1.0
    assert r["label_name"] == run.class_names[r["label"]]
    assert r["stopped"] == (r["gate"] < run.thetas[0])
    if r["stopped"]:
      assert r["label"] == run.background
      assert r["score"] == pytest.approx(1.0 - r["gate"])
  assert [round(r["duration_s"], 2) for r in records] == [0.4, 0.3, 0.5, 2.5]
  assert records[3]["window_start_s"] >= 0.0   # long clip: a window inside it
  assert summary["theta_source"] == "report (calibrated)"
  assert summary["windows_per_stage"][-1] == sum(not r["stopped"] for r in records)


def test_theta_flag_overrides_and_stopped_files_never_reach_the_back(run_dir, inputs, tmp_path):
  out = tmp_path / "out.jsonl"
  summary = cli.predict(workdir=run_dir, inputs=str(inputs), output=str(out), theta=1.01)
  assert all(r["stopped"] and r["label_name"] == "background" for r in _lines(out))
  assert summary["windows_per_stage"][-1] == 0
  summary = cli.predict(workdir=run_dir, inputs=str(inputs), output=str(out), theta=0.0)
  assert not any(r["stopped"] for r in _lines(out))
  assert summary["windows_per_stage"][-1] == 4


def test_resampled_file_gives_the_same_window_as_the_native_rate(run_dir, tmp_path):
  for rate in (8000, 16000):
    soundfile.write(str(tmp_path / f"x{rate}.wav"), fx.tone(4, rate, 0.4), rate, subtype="FLOAT")
  out = tmp_path / "o.jsonl"
  cli.predict(workdir=run_dir, inputs=str(tmp_path), output=str(out))
  a, b = (r for r in _lines(out) if r["path"].endswith(".wav"))
  assert a["gate"] == pytest.approx(b["gate"], abs=0.05)


def test_stream_counts_windows_and_runs_the_back_only_on_passed_windows(run_dir, tmp_path):
  rate = 8000
  wave = np.concatenate([np.zeros(rate, np.float32), fx.tone(1, rate, 0.4),
                         np.zeros(2 * rate, np.float32), fx.tone(3, rate, 0.4),
                         np.zeros(rate, np.float32)])
  path = tmp_path / "long.wav"
  soundfile.write(str(path), wave, rate, subtype="PCM_16")
  run = load_spotter(run_dir)
  runner = run.runner
  seen = []
  original = runner.run_stage

  def spy(stage, h, rows=None):
    seen.append((stage, len(h) if rows is None else len(rows)))
    return original(stage, h, rows)

  runner.run_stage = spy
  result = stream_lib.stream_file(run, wave, hop_seconds=0.25)
  expected = 1 + int(np.ceil((wave.shape[0] - run.window_len) / (rate // 4)))
  assert result["num_windows"] == expected
  passed = result["num_windows"] - result["windows_stopped"]
  assert result["stopped_fraction"] == pytest.approx(result["windows_stopped"] / expected)
  assert result["back_windows"] == passed
  windows = aw.sliding_windows(wave, run.window_len, rate // 4)
  gates = runner.first_gate(windows)   # the front + gate on every window
  back = np.concatenate(runner.last_back_indices) if runner.last_back_indices else np.zeros(0)
  # The back saw exactly the passed windows, never a stopped one (padding rows aside).
  np.testing.assert_array_equal(back, np.flatnonzero(gates >= run.thetas[0]))
  back_rows = sum(n for stage, n in seen if stage == run.num_gates)
  assert passed <= back_rows < max(2 * passed, 1)
  # Same decisions as the front + gate on every window.
  assert result["windows_stopped"] == int((gates < run.thetas[0]).sum())

  out = tmp_path / "s.jsonl"
  summary = cli.predict(workdir=run_dir, inputs=str(path), output=str(out), stream=True,
                        hop_seconds=0.5, theta=1.01)
  (record,) = _lines(out)
  assert record["stopped_fraction"] == 1.0 and record["back_windows"] == 0
  assert record["detections"] == [] and summary["windows_per_stage"][-1] == 0


def test_merge_events_joins_consecutive_windows_of_one_keyword():
  labels = np.array([3, 0, 0, 3, 1, 1, 0, 3])
  scores = np.array([.9, .6, .8, .9, .7, .5, .99, .9])
  events = stream_lib.merge_events(labels, scores, np.ones(8), 3, hop=2000, window_len=8000,
                                   sample_rate=8000, class_names=["a", "b", "c", "bg"])
  assert [(e["label_name"], e["windows"]) for e in events] == [("a", 2), ("b", 2), ("a", 1)]
  assert events[0]["start_s"] == 0.25 and events[0]["end_s"] == 1.5
  assert events[0]["score"] == 0.8 and events[0]["peak_s"] == pytest.approx(1.0)


def test_corrupt_wav_error_names_the_file(run_dir, inputs, tmp_path):
  bad = inputs / "e_broken.wav"
  bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt nonsense")
  with pytest.raises(audio_io.AudioReadError, match="e_broken.wav"):
    cli.predict(workdir=run_dir, inputs=str(inputs), output=str(tmp_path / "o.jsonl"))


def test_stream_of_any_rate_and_channel_count_is_mixed_down_and_resampled_and_says_so(
    run_dir, tmp_path, capsys):
  rate = 44100
  mono = np.concatenate([np.zeros(rate // 2, np.float32), fx.tone(1, rate, 0.4),
                         np.zeros(rate, np.float32)])
  stereo = np.stack([mono, 0.5 * mono], axis=1)
  path = tmp_path / "stereo_44k.wav"
  soundfile.write(str(path), stereo, rate, subtype="PCM_16")
  out = tmp_path / "st.jsonl"
  summary = cli.predict(workdir=run_dir, inputs=str(path), output=str(out), stream=True)
  (record,) = _lines(out)
  assert record["input"]["channels"] == 2 and record["input"]["sample_rate"] == rate
  assert record["input"]["mixed_down"] and record["input"]["resampled"]
  assert "mixed down from 2 channels" in capsys.readouterr().err
  native = tmp_path / "mono_8k.wav"
  soundfile.write(str(native), audio_io.resample(0.75 * mono, rate, 8000), 8000, subtype="PCM_16")
  cli.predict(workdir=run_dir, inputs=str(native), output=str(tmp_path / "m.jsonl"), stream=True)
  (same,) = _lines(tmp_path / "m.jsonl")
  assert same["num_windows"] == record["num_windows"] and not same["input"]["resampled"]
  assert summary["streams"][0]["input"]["note"].startswith("mixed down")


def test_stream_on_a_corrupt_file_fails_in_one_line_naming_it(run_dir, tmp_path):
  bad = tmp_path / "broken_stream.wav"
  bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt nonsense")
  env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="")
  done = subprocess.run([sys.executable, "-m", "gcnet.cli.predict", f"--workdir={run_dir}",
                         f"--inputs={bad}", f"--output={tmp_path / 'o.jsonl'}", "--stream"],
                        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
  assert done.returncode == 1
  lines = [l for l in done.stderr.splitlines() if l.strip()]
  assert lines[-1].startswith("error: Cannot read audio file") and "broken_stream.wav" in lines[-1]
  assert not any("Traceback" in l for l in lines)


def test_command_line_end_to_end(run_dir, inputs, tmp_path):
  out = tmp_path / "cli.jsonl"
  env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="")
  cmd = [sys.executable, "-m", "gcnet.cli.predict", f"--workdir={run_dir}", f"--output={out}"]
  done = subprocess.run(cmd + [f"--inputs={inputs}"], cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=300)
  assert done.returncode == 0, done.stderr
  assert len(_lines(out)) == 4 and set(FIELDS) <= set(_lines(out)[0])
  (inputs / "z_bad.wav").write_bytes(b"not audio")
  done = subprocess.run(cmd + [f"--inputs={inputs / 'z_bad.wav'}"], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=300)
  assert done.returncode == 1 and "z_bad.wav" in done.stderr
