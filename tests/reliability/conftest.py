import pytest

from tests.train.fixtures import tiny_config, write_tiny_fashion_mnist


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
  """(source_dir, data_dir) of a tiny generated Fashion-MNIST, prepared once (so that subprocesses
  do not each prepare it)."""
  from gcnet import data as data_lib
  root = tmp_path_factory.mktemp("reliability_fmnist")
  source_dir, data_dir = write_tiny_fashion_mnist(str(root / "raw")), str(root / "tfds")
  data_lib.get_dataset(tiny_config(source_dir, data_dir).data)
  return source_dir, data_dir
