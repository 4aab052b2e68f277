"""Deployment of trained gated models: staged execution that skips work, sweeps, export, costs.

    run = load_run("runs/fmnist_gc")                  # config, model, params, dataset
    staged = StagedModel(run.model, run.params)       # one pure function per stage
    runner = StagedRunner(staged, thetas=[0.13])      # the back runs only on passed samples
    out = runner(images)                              # predictions, logits, stopped_at
    sweep = threshold_sweep(val_preds, test_preds, default_thetas(), costs=costs)
    export_to_directory(gc_export_stages(staged, spec), "export/", images[:8], kind="gc", ...)

CLIs: `python -m gcnet.sweep_theta --workdir=RUN`, `python -m gcnet.export --workdir=RUN
--output=DIR`; benchmark: `python benchmarks/staged_inference.py --workdir=RUN`. See docs/deploy.md.
"""

from gcnet.deploy.buckets import Buckets, bucket_sizes, next_power_of_two
from gcnet.deploy.codec import codec_stage_fns, compose as codec_compose, staged_codec
from gcnet.deploy.costs import boundary_bytes, deployment_costs, ungated_costs
from gcnet.deploy.data import calibrated_thetas, class_names, split_inputs, split_predictions
from gcnet.deploy.export_stages import (ExportStage, codec_export_stages, export_stage,
                                        export_to_directory, gc_export_stages, load_exported)
from gcnet.deploy.inference import StagedOutput, StagedRunner
from gcnet.deploy.load import LoadedRun, checkpoint_steps, load_config, load_run, restore_params
from gcnet.deploy.staged import StagedModel, TensorSpec, stage_fn, stage_names
from gcnet.deploy.sweep import default_thetas, threshold_sweep, to_csv, to_json, to_markdown
from gcnet.deploy.timing import expected_time, time_call, time_stream
