"""Flax Linen modules built on `gcnet.ops`."""

from gcnet.nn.gated_compression import GATE_COLLECTION, GatedCompression
