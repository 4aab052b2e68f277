"""Quality against training minutes from a codec run's metrics (restarts not counted as training)."""

import json

import numpy as np

from gcnet.tasks import codec_progress


def _write_run(path, rows):
  path.mkdir()
  (path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def test_minutes_skip_a_restart_and_table_reads_validation(tmp_path):
  rows, t = [], 1000.0
  for step in range(100, 1100, 100):
    t += 60.0 if step != 600 else 3600.0      # an hour stopped between step 500 and 600
    rows.append({"step": step, "time": t, "train/loss": 1.0})
    if step % 500 == 0:
      rows.append({"step": step, "time": t + 1.0, "validation/speech_pesq": step / 1000.0,
                   "validation/speech_stoi": 0.5, "validation/speech_pesq/fsdd_theo": 1.5})
  _write_run(tmp_path / "run", rows)
  curve = codec_progress.progress(tmp_path / "run")
  np.testing.assert_array_equal(curve["steps"], [500, 1000])
  # 100 steps per minute throughout: the hour-long gap counts as one minute.
  np.testing.assert_allclose(curve["minutes"], [5.0 + 1 / 60, 10.0 + 2 / 60], atol=0.02)
  assert codec_progress.at_minutes(curve, 7.0, "speech_pesq") == 0.5
  assert np.isnan(codec_progress.at_minutes(curve, 2.0, "speech_pesq"))
  table = codec_progress.progress_table([curve], [5.1, 11.0])
  assert "| run | 500 | 5 | 0.500 | 1.500 | 0.500 |" in table
  assert "| run | 1000 | 11 | 1.000 | 1.500 | 0.500 |" in table
