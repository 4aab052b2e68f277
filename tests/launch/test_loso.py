"""The leave-one-speaker-out launcher: folds, their flags, and the table of finished folds."""

import json
import os

import pytest

from launch import loso


def test_every_speaker_is_test_once_with_the_next_as_validation():
  pairs = [loso.fold_speakers(s) for s in loso.SPEAKERS]
  assert sorted(t for t, _ in pairs) == sorted(loso.SPEAKERS)
  assert dict(pairs)["yweweler"] == "george" and dict(pairs)["theo"] == "yweweler"
  assert all(t != v for t, v in pairs)
  with pytest.raises(ValueError, match="Unknown speaker"):
    loso.fold_speakers("alice")


def test_fold_flags_hold_out_the_speakers_and_link_the_baseline():
  args = loso.fold_args("lucas", "gc", "/w", "/data")
  assert "--config.data.split=speaker_held_out" in args
  assert "--config.data.test_speakers=('lucas',)" in args
  assert "--config.data.validation_speakers=('nicolas',)" in args
  assert "--config.data.source_dir=/data" in args
  assert "--config.eval.baseline_workdir=/w/lucas/baseline" in args
  assert not any("baseline_workdir" in a for a in loso.fold_args("lucas", "baseline", "/w", ""))


def _report(path, accuracy, recall, stop):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    json.dump({"ungated_accuracy": accuracy + 0.01,
               "gating": {"calibrated": {"accuracy": accuracy, "positive_recall": recall,
                                         "stop_rate": stop, "theta": [0.2], "saving_ratio": 1.5,
                                         "per_class_recall": [0.9, 0.8, 0.7, 0.99],
                                         "validation_recall": 0.99}}}, f)


def test_table_has_mean_and_spread_of_finished_folds(tmp_path, capsys):
  _report(str(tmp_path / "george" / "gc" / "report.json"), 0.9, 0.96, 0.8)
  _report(str(tmp_path / "theo" / "gc" / "report.json"), 0.8, 0.94, 0.9)
  result = loso.collect(str(tmp_path), variants=("gc",))
  assert set(result["folds"]) == {"george", "theo"}
  acc = result["summary"]["gc"]["accuracy"]
  assert acc["mean"] == pytest.approx(0.85) and acc["n"] == 2
  assert acc["std"] == pytest.approx(0.0707107, abs=1e-6)
  assert result["summary"]["gc"]["theta"]["mean"] == pytest.approx(0.2)
  rc = loso.main(["--workdir", str(tmp_path), "--variants=gc", "--table_only",
                  "--out", str(tmp_path / "t")])
  assert rc == 0
  md = (tmp_path / "t.md").read_text()
  assert "| theo (yweweler) | gc | 0.800 | 0.810 | 0.940 | 0.900 | 0.800 | 0.990 | 0.200 | 1.500 |" in md
  assert "mean ± std (2 folds)" in md and "0.850 ± 0.071" in md


def test_dry_run_prints_one_command_per_missing_fold(tmp_path, capsys):
  _report(str(tmp_path / "george" / "baseline" / "report.json"), 1, 1, 0)
  assert loso.main(["--workdir", str(tmp_path), "--folds=george", "--dry_run"]) == 0
  out = capsys.readouterr().out
  assert "george/baseline: done, skipped" in out
  assert out.count("gcnet.cli.train") == 1 and "fsdd_kws_gc.py" in out


def test_streams_table_sums_detections_over_folds(tmp_path):
  rows = {"george": {"speaker": {"hits": 28, "keywords": 30, "recall": 28 / 30,
                                 "latency_s": {"mean": 0.5}, "false_alarms": 2},
                     "background": {"false_alarms_per_hour": 4.0, "stopped_fraction": 0.95,
                                    "compute_saving": 1.4}},
          "theo": {"speaker": {"hits": 20, "keywords": 30, "recall": 20 / 30, "latency_s": None,
                               "false_alarms": 1},
                   "background": {"false_alarms_per_hour": 2.0, "stopped_fraction": 0.9,
                                  "compute_saving": 1.3}}}
  md = loso.streams_markdown(rows)
  assert "| george | 28 of 30 | 0.933 | 0.50 | 2 | 4.0 | 0.950 | 1.40x |" in md
  assert "| **all folds** | 48 of 60 | 0.800 | | 3 | 3.0 (mean) | | |" in md
  os.makedirs(tmp_path / "theo" / "gc")
  (tmp_path / "theo" / "gc" / "stream.json").write_text(json.dumps(rows["theo"]))
  assert loso.stream_rows(str(tmp_path)) == {"theo": rows["theo"]}
