"""Imports gcnet's built-in datasets so that they register themselves (see `registry`)."""

from gcnet.data import fashion_mnist  # noqa: F401
from gcnet.data import fsdd  # noqa: F401
from gcnet.data import official_tfds  # noqa: F401
from gcnet.data import speech_commands  # noqa: F401
from gcnet.data import codec_streams  # noqa: F401
from gcnet.data import wav_dir  # noqa: F401
