"""gcnet: Gated Compression and Dynamic Switch layers for always-on models, in JAX/Flax."""

__version__ = "0.1.0"
