"""launch.kws_streams: fold streams, the mean curve over folds and the table."""

from launch import kws_streams


def _fold(recall, fa, per_source):
  point = {"min_level_db": -60.0, "min_windows": 2, "min_score": 0.9}
  return {"point": point, "validation": {"recall": 0.9, "false_alarms_per_hour": 0.0},
          "test_stream": {"keywords": 10, "hits": int(recall * 10), "recall": recall,
                          "false_alarms": 1, "latency_s": {"mean": 0.1}},
          "background": {"hours": 1.6, "false_alarms": int(fa * 1.6),
                         "false_alarms_per_hour": fa, "stopped_fraction": 0.9,
                         "level_stopped_fraction": 0.3, "compute_saving": 2.0,
                         "per_source": per_source},
          "curve": [{"point": point, "recall": recall, "false_alarms_per_hour": fa},
                    {"point": {**point, "min_windows": 1}, "recall": 1.0,
                     "false_alarms_per_hour": 10 * fa}]}


def test_stream_paths_follow_the_loso_folds():
  paths = kws_streams.stream_paths("S", "theo")
  assert paths["val_stream"] == "S/val/yweweler.wav" and paths["test_stream"] == "S/test/theo.wav"
  assert paths["background"] == "S/eval_background.wav"


def test_mean_curve_and_table():
  folds = {"a": _fold(0.8, 1.25, {"gaps": {"false_alarms": 2, "hours": 0.4,
                                           "false_alarms_per_hour": 5.0}}),
           "b": _fold(0.6, 2.5, {})}
  mean = kws_streams.mean_curve(folds)
  assert [round(r["recall"], 3) for r in mean] == [0.7, 1.0]
  assert mean[0]["false_alarms_per_hour"] == 1.875
  text = kws_streams.to_markdown(folds)
  assert "| a | -60 dBFS, 2, 0.9 |" in text and "0.700 ± 0.141" in text
  assert "| gaps | 0.400 | 2 (5.0/h) | 0 (0.0/h) |" in text
