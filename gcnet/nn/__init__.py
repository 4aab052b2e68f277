"""Flax Linen modules built on `gcnet.ops`, and their `flax.nnx` twins (`*NNX`, `params_nnx`)."""

from gcnet.nn.stats import STATS_COLLECTION, find_stats
from gcnet.nn.gated_compression import GatedCompression
from gcnet.nn.dynamic_switch import DynamicSwitch
from gcnet.nn.gated_compression_nnx import GatedCompressionNNX
from gcnet.nn.dynamic_switch_nnx import DynamicSwitchNNX
from gcnet.nn.params_nnx import linen_params, load_linen_params, stats_of
