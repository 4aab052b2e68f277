"""Datasets (TFDS builders over local files, official TFDS) and Grain input pipelines."""

from gcnet.data.catalog import DATASETS, dataset_names, get_dataset
from gcnet.data.contract import SPLITS, UNLABELLED, Dataset, Source, SourceBase
from gcnet.data.dataset import ImageDataset, LabeledSource
from gcnet.data.pipeline import eval_batches, train_iterator
