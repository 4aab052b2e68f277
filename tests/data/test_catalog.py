"""Datasets and models by name: built-in names, a user's "module:function", prefixes, unknown names,
and building one dataset imports only its own module."""

import subprocess
import sys

import pytest

from gcnet import data
from gcnet import models
from tests.data.fixtures import data_config, memory_dataset


def small_memory_dataset(config):
  assert config.name == "tests.data.test_catalog:small_memory_dataset"
  return memory_dataset(num_train=20)


def test_builtin_names():
  assert {"fashion_mnist", "cifar10", "tfds:", "fsdd", "fsdd_streams"} <= set(data.dataset_names())
  assert {"image_cnn", "kws_dscnn", "soundstream_dsl"} <= set(models.MODELS)


def test_module_function_name_builds_a_users_dataset():
  ds = data.get_dataset(data_config(name="tests.data.test_catalog:small_memory_dataset"))
  assert isinstance(ds, data.Dataset) and len(ds.source("train")) == 18


def test_unknown_name_lists_known():
  with pytest.raises(ValueError, match=r"Unknown dataset 'nope'.*fashion_mnist.*tfds:<name>"):
    data.get_dataset(data_config(name="nope"))
  with pytest.raises(ValueError, match="Unknown dataset 'hub:x'"):
    data.get_dataset(data_config(name="hub:x"))
  with pytest.raises(ValueError, match="Unknown dataset 'tests.nothing:here'"):
    data.get_dataset(data_config(name="tests.nothing:here"))
  with pytest.raises(ValueError, match=r"Unknown model 'resnet'.*image_cnn"):
    models.build(data_config(name="resnet"), 2)


def test_building_a_model_imports_only_its_module():
  code = ("import sys; import ml_collections as mlc; from gcnet import models; "
          "models.build(mlc.ConfigDict(dict(name='image_cnn', size='tiny', gated=True, "
          "gc_after=(0,), gc={}, dtype='float32')), 4); "
          "print(sorted(m for m in sys.modules if m.startswith(('gcnet.models', 'gcnet.data'))))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  loaded = eval(out.stdout.strip().splitlines()[-1])  # pylint: disable=eval-used
  assert "gcnet.models.image_cnn" in loaded
  assert not [m for m in loaded if m.startswith(("gcnet.models.kws", "gcnet.models.codec",
                                                 "gcnet.data"))], loaded
