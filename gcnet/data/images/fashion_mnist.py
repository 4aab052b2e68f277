"""Fashion-MNIST as a TFDS dataset built from the four official IDX files (no TensorFlow needed).

Source files (gzip or uncompressed) come from, in order: `config.data.source_dir` if set; else the
Debian package location `/usr/share/datasets/fashion-mnist`; else an online download. The builder
writes `array_record` files with `Tensor` features into `config.data.data_dir` (else
`$TFDS_DATA_DIR`, else `~/tensorflow_datasets`) on first use and reuses them afterwards.
"""

import os
import urllib.request

from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from gcnet.data.images import idx
from gcnet.data import labels
from gcnet.data.dataset import ImageDataset

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot")
IMAGE_SHAPE = (28, 28, 1)
# Official split -> (images file, labels file), without the ".gz".
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
DOWNLOAD_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"


class DatasetNotFoundError(FileNotFoundError):
  """The raw files of a dataset could not be found or downloaded."""


def missing_files_message(problem: str) -> str:
  names = ", ".join(f"{name}.gz" for pair in FILES.values() for name in pair)
  return (f"Fashion-MNIST not found: {problem}. Get it in one of three ways: "
          f"(1) `apt-get install dataset-fashion-mnist` (puts the files in {DEBIAN_DIR}); "
          f"(2) pass --config.data.source_dir=DIR where DIR holds the four official IDX files "
          f"{names} (gzip or uncompressed); (3) run once on a machine with internet access to "
          f"download them from {DOWNLOAD_URL}.")


def find_source_files(directory: str) -> dict[str, str]:
  """Paths of the four IDX files in `directory`, by base name; prefers "<name>.gz" over "<name>".

  Raises:
    DatasetNotFoundError: naming the directory and the missing files.
  """
  if not os.path.isdir(directory):
    raise DatasetNotFoundError(missing_files_message(f"the directory {directory} does not exist"))
  found, missing = {}, []
  for pair in FILES.values():
    for name in pair:
      candidates = [os.path.join(directory, name + ext) for ext in (".gz", "")]
      path = next((p for p in candidates if os.path.isfile(p)), None)
      if path is None:
        missing.append(name + ".gz")
      else:
        found[name] = path
  if missing:
    raise DatasetNotFoundError(missing_files_message(f"{directory} lacks {', '.join(missing)}"))
  return found


def load_split(images_path: str, labels_path: str) -> tuple[np.ndarray, np.ndarray]:
  """Reads and checks one split.

  Returns:
    `(images uint8 [N, 28, 28], labels uint8 [N])`.
  Raises:
    idx.IdxError: naming the file and the fix, for corrupt files or ones that are not Fashion-MNIST.
  """
  try:
    return _load_split(images_path, labels_path)
  except idx.IdxError as e:
    raise idx.IdxError(
        f"{e} Fix: replace the file with the official one (`apt-get install --reinstall "
        f"dataset-fashion-mnist`, or download it again from {DOWNLOAD_URL}), or point "
        "--config.data.source_dir at a directory of intact files.") from e


def load_arrays(directory: str = DEBIAN_DIR, validation: int = 6000,
                seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """The official IDX files of `directory` as NumPy arrays, without TFDS (for notebooks and the
  user guide): `{"train", "validation", "test"}` -> `(images uint8 [N, 28, 28, 1], labels int32
  [N])`; `validation` examples carved from train with a fixed seed."""
  files = find_source_files(directory)
  out = {}
  for split, (images_name, labels_name) in FILES.items():
    images, labels = load_split(files[images_name], files[labels_name])
    out[split] = (images[..., None], labels.astype(np.int32))
  order = np.random.default_rng(seed).permutation(len(out["train"][1]))
  images, labels = out["train"]
  out["validation"] = (images[order[:validation]], labels[order[:validation]])
  out["train"] = (images[order[validation:]], labels[order[validation:]])
  return out


def _load_split(images_path: str, labels_path: str) -> tuple[np.ndarray, np.ndarray]:
  images, labels = idx.read_idx(images_path), idx.read_idx(labels_path)
  if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE[:2]:
    raise idx.IdxError(f"{images_path}: expected uint8 images [N, 28, 28]; got {images.dtype} "
                       f"{images.shape}.")
  if labels.dtype != np.uint8 or labels.ndim != 1:
    raise idx.IdxError(f"{labels_path}: expected uint8 labels [N]; got {labels.dtype} "
                       f"{labels.shape}.")
  if len(images) != len(labels):
    raise idx.IdxError(f"{images_path} has {len(images)} images but {labels_path} has "
                       f"{len(labels)} labels.")
  if len(labels) and labels.max() >= len(CLASS_NAMES):
    raise idx.IdxError(f"{labels_path}: label {labels.max()} is not a Fashion-MNIST class "
                       f"(0..{len(CLASS_NAMES) - 1}).")
  return images, labels


class GcnetFashionMnist(tfds.core.GeneratorBasedBuilder):
  """Fashion-MNIST from the official IDX files; features `inputs` uint8 [28, 28, 1], `label`."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Built from the official IDX files; Tensor features, no TensorFlow."}
  # TFDS finds a builder's code (and its optional checksums file beside it) through the
  # `importlib_resources` backport, which it does not install on Python >= 3.9: name it directly.
  code_path = epath.Path(__file__)

  def __init__(self, *, source_dir: str | None = None, allow_download: bool = True, **kwargs):
    """`source_dir`: directory of the IDX files (None: Debian location, then download)."""
    self._source_dir = source_dir or None
    self._allow_download = allow_download
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description="Fashion-MNIST: 28x28 grey images of 10 clothing classes (Zalando).",
        features=tfds.features.FeaturesDict({
            "inputs": tfds.features.Tensor(shape=IMAGE_SHAPE, dtype=np.uint8,
                                           encoding=tfds.features.Encoding.BYTES),
            "label": tfds.features.Tensor(shape=(), dtype=np.int64),
        }),
        supervised_keys=("inputs", "label"),
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        # Keep the IDX order: gcnet shuffles in its Grain pipeline.
        disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    paths = self._source_files(dl_manager)
    return {split: self._generate_examples(paths[images], paths[labels])
            for split, (images, labels) in FILES.items()}

  def _generate_examples(self, images_path, labels_path):
    images, labels = load_split(os.fspath(images_path), os.fspath(labels_path))
    for i in range(len(labels)):
      yield i, {"inputs": images[i, :, :, None], "label": int(labels[i])}

  def _source_files(self, dl_manager) -> dict[str, str]:
    if self._source_dir:
      return find_source_files(self._source_dir)
    if os.path.isdir(DEBIAN_DIR):
      return find_source_files(DEBIAN_DIR)
    if not self._allow_download:
      raise DatasetNotFoundError(missing_files_message(
          f"no source_dir was given, {DEBIAN_DIR} does not exist and downloading is disabled"))
    target = os.path.join(os.fspath(dl_manager.download_dir), "gcnet_fashion_mnist")
    try:
      return download_files(target)
    except OSError as e:  # urllib's errors are OSErrors; offline this fails at once.
      raise DatasetNotFoundError(missing_files_message(
          f"no source_dir was given, {DEBIAN_DIR} does not exist and the download from "
          f"{DOWNLOAD_URL} failed ({type(e).__name__}: {e})")) from e


def download_files(directory: str, timeout_s: float = 60.0) -> dict[str, str]:
  """Downloads the four official files into `directory` (kept for reuse); returns their paths.

  A plain HTTP download with a timeout and no retries, so an offline machine fails at once.
  """
  os.makedirs(directory, exist_ok=True)
  for pair in FILES.values():
    for name in pair:
      path = os.path.join(directory, name + ".gz")
      if os.path.isfile(path):
        continue
      with urllib.request.urlopen(DOWNLOAD_URL + name + ".gz", timeout=timeout_s) as response:
        payload = response.read()
      partial = f"{path}.{os.getpid()}.tmp"
      with open(partial, "wb") as f:
        f.write(payload)
      os.replace(partial, path)
  return find_source_files(directory)


def prepared_builder(data_config, allow_download: bool = True) -> GcnetFashionMnist:
  """The builder over `data_config.data_dir`, prepared (from the raw files) if it was not yet."""
  def make():
    return GcnetFashionMnist(data_dir=data_config.data_dir or None,
                             source_dir=data_config.source_dir or None,
                             allow_download=allow_download, file_format="array_record")
  builder = make()
  if builder.is_prepared():
    return builder
  try:
    builder.download_and_prepare()
  except OSError:
    # Processes of one run that share a data_dir all prepare on first use; the losers of that race
    # fail to rename their finished copy into place (FileExistsError): use the winner's.
    builder = make()
    if not builder.is_prepared():
      raise
  return builder


def fashion_mnist_dataset(data_config) -> ImageDataset:
  # Check the config before the (possibly slow) first preparation.
  labels.validate_positive_classes(data_config.positive_classes, CLASS_NAMES, data_config.name)
  builder = prepared_builder(data_config)
  return ImageDataset(data_config.name, open_split=builder.as_data_source,
                 source_class_names=CLASS_NAMES, input_shape=IMAGE_SHAPE, data_config=data_config)
