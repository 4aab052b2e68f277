import pytest

from tests.train.fixtures import write_tiny_fashion_mnist


@pytest.fixture(scope="session")
def tiny_fmnist(tmp_path_factory):
  """(source_dir, data_dir) of a tiny generated Fashion-MNIST, prepared once per session."""
  root = tmp_path_factory.mktemp("tiny_fmnist")
  return write_tiny_fashion_mnist(str(root / "raw")), str(root / "tfds")
