"""Models with GC and DSL layers, built from a config by name."""

from gcnet.models.registry import build, register
