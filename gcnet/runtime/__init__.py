"""Using a trained run: one loader, staged execution that skips work, export, costs and timing.
(Hard-routed decoding of a DSL codec is the model's own: `gcnet.models.codec.StagedCodec`.)

    run = load_run("runs/fmnist_gc")                  # config, model, params, dataset, report
    thetas, source = run.thetas()                     # calibrated on validation, else the config
    runner = StagedRunner(StagedModel(run.model, run.params), thetas)
    out = runner(images)                              # the back ran only on the passed samples
    export_run("runs/fmnist_gc", "export/")           # each stage as StableHLO + manifest

Keyword spotting on audio files and streams: `gcnet.runtime.keywords`. See docs/deploy.md.
"""

from gcnet.runtime.costs import boundary_bytes, deployment_costs, ungated_costs
from gcnet.runtime.export import (ExportStage, codec_export_stages, export_run, export_stage,
                                  export_to_directory, gc_export_stages, load_exported)
from gcnet.runtime.load import LoadedRun, WrongRunKind, load_run, run_kind
from gcnet.runtime.splits import split_inputs, split_predictions
from gcnet.runtime.staged_model import StagedModel, TensorSpec, stage_fn, stage_names
from gcnet.runtime.staged_runner import StagedOutput, StagedRunner
from gcnet.runtime.timing import expected_time, time_call, time_stream
