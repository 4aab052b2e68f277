"""The real FSDD recordings (../shared/data/fsdd) through the builder and the official split."""

import numpy as np
import pytest

from experiments import audio_common
from gcnet.data.audio import fsdd


@pytest.mark.needs_data
def test_real_fsdd_counts_and_official_split(fsdd_dir, tmp_path):
  clips = fsdd.load_clips(fsdd_dir, str(tmp_path / "tfds"), sample_rate=8000)
  assert len(clips["digit"]) == 3000
  assert sorted(set(clips["speaker"])) == ["george", "jackson", "lucas", "nicolas", "theo",
                                           "yweweler"]
  assert np.bincount(clips["digit"]).tolist() == [300] * 10
  lengths = np.array([a.size for a in clips["audio"]])
  assert lengths.min() == 1148 and lengths.max() == 18262       # 0.14 s to 2.3 s at 8 kHz
  official_test = clips["index"] < 5
  assert (int((~official_test).sum()), int(official_test.sum())) == (2700, 300)

  config = audio_common.kws_data_config("fsdd", positive_classes=(1, 4, 7))
  rows = fsdd.split_clips(clips, config)
  assert {s: len(r) for s, r in rows.items()} == {"train": 2400, "validation": 300, "test": 300}
  assert np.all(clips["index"][rows["test"]] < 5)
  for split in ("train", "validation"):   # validation keeps every (speaker, digit) group
    assert np.bincount(clips["digit"][rows[split]]).tolist() == [len(rows[split]) // 10] * 10

  config.split = "speaker_held_out"
  rows = fsdd.split_clips(clips, config)
  assert set(clips["speaker"][rows["test"]]) == {"theo"}
  assert set(clips["speaker"][rows["validation"]]) == {"nicolas"}
  assert {s: len(r) for s, r in rows.items()} == {"train": 2000, "validation": 500, "test": 500}
