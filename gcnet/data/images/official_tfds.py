"""Official TFDS image datasets (e.g. `cifar10`) read as random-access sources, without TensorFlow.

`tfds.data_source` needs a dataset already prepared in the `array_record` format in
`config.data.data_dir` (else `$TFDS_DATA_DIR`, else `~/tensorflow_datasets`). Preparing an official
dataset encodes its images with TensorFlow, so it is done once where TensorFlow is installed:

    tfds build cifar10 --data_dir=DIR --file_format=array_record

Reading needs no TensorFlow: TFDS decodes `Image` features (PNG/JPEG bytes) with OpenCV if present,
else Pillow. Records `{"image": uint8 [H, W, C], "label": int}` map to the gcnet batch contract.

Registered names: "cifar10", and "tfds:<name>[:version]" for any TFDS image classification dataset
with fixed-size "image" and ClassLabel "label" features and "train"/"test" splits.
"""

import importlib.util

import tensorflow_datasets as tfds

from gcnet.data import labels
from gcnet.data.dataset import ImageDataset

CIFAR10_CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                       "ship", "truck")


def open_split(tfds_name: str, split: str, data_dir: str | None):
  """`tfds.data_source` of one split, with instructions when it is not prepared as array_record."""
  try:
    return tfds.data_source(tfds_name, split=split, data_dir=data_dir, download=False)
  except Exception as e:  # TFDS raises assorted types (NotImplementedError, AssertionError, ...).
    where = data_dir or "the default TFDS data_dir ($TFDS_DATA_DIR or ~/tensorflow_datasets)"
    raise FileNotFoundError(
        f"Cannot open split {split!r} of the TFDS dataset {tfds_name!r} in {where} as a "
        f"random-access array_record source ({type(e).__name__}: {e}). Prepare it once on a "
        f"machine with TensorFlow and internet access: `pip install tensorflow tensorflow-datasets "
        f"&& tfds build {tfds_name} --data_dir=DIR --file_format=array_record`, then pass "
        f"--config.data.data_dir=DIR (or set $TFDS_DATA_DIR=DIR). A copy prepared in the default "
        f"tfrecord format cannot be read without TensorFlow: rebuild it with "
        f"--file_format=array_record.") from e


def tfds_image_dataset(name: str, tfds_name: str, data_config, *, class_names=None,
                       image_key: str = "image", label_key: str = "label") -> ImageDataset:
  """A `ImageDataset` over the official TFDS dataset `tfds_name`.

  Args:
    name: the gcnet dataset name (e.g. "cifar10" or "tfds:cifar100").
    tfds_name: the TFDS name, with an optional ":version".
    data_config: `config.data`.
    class_names: source class names; None reads them from the ClassLabel feature.
    image_key, label_key: feature names of the image and the class id.
  """
  data_dir = data_config.data_dir or None
  if class_names is not None:
    labels.validate_positive_classes(data_config.positive_classes, class_names, name)
  raw = {split: open_split(tfds_name, split, data_dir) for split in ("train", "test")}
  features = raw["train"].dataset_info.features
  image = features[image_key]
  shape = tuple(image.shape)
  if any(d is None for d in shape):
    raise ValueError(f"TFDS dataset {tfds_name!r} has images of varying size {shape}; gcnet "
                     "batches need a fixed size.")
  if len(shape) == 2:
    shape += (1,)
  if isinstance(image, tfds.features.Image) and not _have_image_decoder():
    raise ImportError(f"Reading the encoded images of {tfds_name!r} without TensorFlow needs "
                      "Pillow (or OpenCV): pip install pillow")
  if class_names is None:
    class_names = tuple(features[label_key].names)
  return ImageDataset(name, open_split=raw.__getitem__, source_class_names=class_names,
                 input_shape=shape, data_config=data_config, inputs_key=image_key,
                 label_key=label_key)


def _have_image_decoder() -> bool:
  return any(importlib.util.find_spec(m) is not None for m in ("PIL", "cv2"))


def cifar10_dataset(data_config) -> ImageDataset:
  return tfds_image_dataset(data_config.name, "cifar10", data_config,
                            class_names=CIFAR10_CLASS_NAMES)


def tfds_prefixed_dataset(data_config) -> ImageDataset:
  return tfds_image_dataset(data_config.name, data_config.name.split(":", 1)[1], data_config)
