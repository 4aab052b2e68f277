"""The IDX file format of (Fashion-)MNIST: read with header checks, and write (for tests).

Layout: two zero bytes, a type code, the number of dimensions `ndim`, then `ndim` big-endian uint32
sizes, then the values in C order, big-endian. Files may be gzip-compressed.
"""

import gzip
import os
import zlib

import numpy as np

# IDX type code -> big-endian NumPy dtype.
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxError(ValueError):
  """A file that is not a valid IDX file (bad header, truncated, trailing bytes)."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
  """Reads an IDX file, gzip-compressed or not (told apart by content, not by name).

  Returns:
    An array of the file's shape and dtype in native byte order (`uint8` for images and labels).
  Raises:
    IdxError: naming `path`, for a corrupt or truncated file.
  """
  path = os.fspath(path)
  with open(path, "rb") as f:
    raw = f.read()
  if raw[:2] == _GZIP_MAGIC:
    try:
      raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
      raise IdxError(f"{path}: corrupt or truncated gzip data ({e}).") from e
  return parse_idx(raw, name=path)


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
  """Parses the bytes of an uncompressed IDX file; `name` is used in error messages."""
  if len(raw) < 4:
    raise IdxError(f"{name}: too short for an IDX header ({len(raw)} bytes).")
  if raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
    raise IdxError(f"{name}: bad IDX magic number 0x{raw[:4].hex()}; expected 0x0000TTNN with "
                   f"type TT in {{{', '.join(f'{c:02x}' for c in _DTYPES)}}} and NN dimensions.")
  dtype, ndim = _DTYPES[raw[2]], raw[3]
  if ndim == 0:
    raise IdxError(f"{name}: IDX header declares 0 dimensions.")
  offset = 4 + 4 * ndim
  if len(raw) < offset:
    raise IdxError(f"{name}: truncated IDX header ({len(raw)} bytes, {ndim} dimensions need "
                   f"{offset}).")
  shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
  expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
  payload = len(raw) - offset
  if payload != expected:
    kind = "truncated" if payload < expected else "has trailing bytes"
    raise IdxError(f"{name}: {kind}: the header says shape {shape} of {dtype.newbyteorder('=')} "
                   f"({expected} bytes of data) but the file has {payload}.")
  data = np.frombuffer(raw, dtype, offset=offset).reshape(shape)
  return data.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
  """Writes `array` as an IDX file, gzip-compressed if `path` ends with `.gz`."""
  array = np.asarray(array)
  native = array.dtype.newbyteorder("=")
  if native not in _CODES:
    raise ValueError(f"IDX cannot store dtype {array.dtype}; use one of "
                     f"{sorted(str(d) for d in _CODES)}.")
  if not 1 <= array.ndim <= 255:
    raise ValueError(f"IDX needs 1 to 255 dimensions; got shape {array.shape}.")
  header = bytes([0, 0, _CODES[native], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
  raw = header + np.ascontiguousarray(array, _DTYPES[_CODES[native]]).tobytes()
  path = os.fspath(path)
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "wb") as f:
    f.write(raw)
