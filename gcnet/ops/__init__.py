"""Pure functional gate ops for conditional computation (no Flax import).

Gated Compression (supervised): `soft_threshold` -> `global_pool` -> (the layer's dense gate) ->
`gate`, with the `gate_bce` and `l1`/`hoyer` penalties; `stopped` decides. Dynamic Switch
(unsupervised): `switch` and `mix`, with `routing_entropy_loss` and `budget_loss`. Metrics:
`stop_rate`, `positive_recall`, `pass_rate`, `calibrate_theta`. Every op computes in float32 and
returns raw, unweighted statistics.
"""

from gcnet.ops.compression import (compression_stats, hoyer_per_sample, l1_per_sample,
                                   soft_threshold, zero_fraction_per_sample)
from gcnet.ops.gate import gate, stopped
from gcnet.ops.losses import (binary_entropy, budget_loss, gate_bce, routing_entropy_loss)
from gcnet.ops.metrics import calibrate_theta, pass_rate, positive_recall, stop_rate
from gcnet.ops.pooling import global_pool
from gcnet.ops.segments import (assemble_segments, decode_segments, drop_context, force_route,
                                segment_features, segment_windows)
from gcnet.ops.stats import CompressionStats, GateStats, GCStats, SwitchStats
from gcnet.ops.straight_through import hard_threshold, straight_through
from gcnet.ops.switch import mix, switch
