"""Datasets by name: `get_dataset(config.data)` imports only the module that builds the named one."""

from gcnet import catalog
from gcnet.data.contract import Dataset

DATASETS = {
    "fashion_mnist": "gcnet.data.images.fashion_mnist:fashion_mnist_dataset",
    "cifar10": "gcnet.data.images.official_tfds:cifar10_dataset",
    "tfds:": "gcnet.data.images.official_tfds:tfds_prefixed_dataset",
    "fsdd": "gcnet.data.audio.fsdd:fsdd",
    "speech_commands": "gcnet.data.audio.speech_commands:build",
    "fsdd_streams": "gcnet.data.audio.codec_streams:fsdd_streams",
    "wav_dir": "gcnet.data.audio.wav_dir:wav_dir",
}


def get_dataset(data_config) -> Dataset:
  """Builds the dataset named `data_config.name` (preparing it on first use where it can).

  The name is a key of `DATASETS`, `tfds:<name>`, or `"module.path:function"` of your own
  `function(data_config) -> Dataset` (any class that implements `gcnet.data.contract.Dataset`).
  """
  return catalog.resolve(DATASETS, data_config.name, "dataset")(data_config)


def dataset_names() -> list[str]:
  return sorted(DATASETS)
