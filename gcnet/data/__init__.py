"""Datasets (TFDS builders over local files, official TFDS) and Grain input pipelines."""

from gcnet.data.dataset import Dataset, LabeledSource
from gcnet.data.pipeline import eval_batches, train_iterator
from gcnet.data.registry import get_dataset, register_dataset, registered_datasets
