"""Inference of trained keyword spotters on audio files, per file and streaming (see gcnet.predict).

- `run_loader`: a run's config, model, parameters and gate thresholds from its workdir.
- `clip_windows`: a recording of any length -> the model's fixed-length windows.
- `staged`: the front and gate on every window, the back only on windows that pass.
- `predict_files`: one prediction per file; `stream`: always-on sliding windows and events.
- `stream_truth`: detections vs the ground truth of `make_stream` (a generated long recording).
- `cli`: what `python -m gcnet.predict` runs.
"""
