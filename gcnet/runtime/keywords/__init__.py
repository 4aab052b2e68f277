"""Keyword spotting with a trained run on audio files, per file and streaming (`gcnet.cli.predict`).

- `spotter`: a keyword run with its staged runner, thresholds and window geometry.
- `clip_windows`: a recording of any length -> the model's fixed-length windows.
- `predict_files`: one prediction per file; `stream`: always-on sliding windows and events.
- `make_stream`: a long test recording from held-out clips and its ground truth;
  `stream_truth`: detections scored against that truth.
- `predict`: what `python -m gcnet.cli.predict` runs.
"""
