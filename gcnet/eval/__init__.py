"""Evaluation: predictions, theta calibration, gate metrics, compute accounting and reports.

    preds = collect_predictions(model, params, batches)          # logits, label, gate_probs, ...
    thetas = calibrate_thetas(val_gate_probs, val_is_positive, 0.99)
    metrics = metrics_at(test_preds, thetas, z_elements)         # stop rate, recall, accuracy, bytes
    costs = stage_costs(model, params, example_input)            # FLOPs (XLA and analytic), params
    report = evaluate_run(config, model, params, dataset, step=step)
    print(format_report(report))
"""

from gcnet.eval.calibration import calibrate_thetas
from gcnet.eval.compute import expected_flops, part_names, stage_costs
from gcnet.eval.evaluate import evaluate_run, load_baseline_report, validation_metrics
from gcnet.eval.gate_metrics import (compression_metrics, confusion_matrix, end_to_end_predictions,
                                     metrics_at, reach_fractions, sparse_bytes)
from gcnet.eval.predictions import collect_predictions
from gcnet.eval.report import build_report, format_report
