"""The dataset registry: built-in names, custom registrations, prefixes, unknown names."""

import pytest

from gcnet import data
from tests.data.fixtures import data_config, memory_dataset


def test_builtin_names():
  names = data.registered_datasets()
  assert {"fashion_mnist", "cifar10", "tfds:"} <= set(names)


def test_register_and_get():
  @data.register_dataset("gcnet_test_memory")
  def _build(config):
    assert config.name == "gcnet_test_memory"
    return memory_dataset(num_train=20)

  ds = data.get_dataset(data_config(name="gcnet_test_memory"))
  assert isinstance(ds, data.Dataset) and len(ds.source("train")) == 18


def test_unknown_name_lists_registered():
  with pytest.raises(ValueError, match=r"Unknown dataset 'nope'.*fashion_mnist.*tfds:<name>"):
    data.get_dataset(data_config(name="nope"))
  with pytest.raises(ValueError, match="Unknown dataset 'hub:x'"):
    data.get_dataset(data_config(name="hub:x"))
