"""IDX reading and writing, gz and raw, and the errors for corrupt files."""

import gzip

import numpy as np
import pytest

from gcnet.data.images import idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype,shape", [(np.uint8, (3, 4, 5)), (np.uint8, (7,)),
                                         (np.int32, (2, 3)), (np.float32, (4,))])
def test_round_trip(tmp_path, suffix, dtype, shape):
  array = (np.arange(np.prod(shape)) * 3 % 251).astype(dtype).reshape(shape)
  path = tmp_path / f"x-idx{suffix}"
  idx.write_idx(path, array)
  out = idx.read_idx(path)
  assert out.dtype == np.dtype(dtype) and out.shape == shape
  np.testing.assert_array_equal(out, array)
  assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_header_layout_is_big_endian():
  raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
  np.testing.assert_array_equal(idx.parse_idx(raw), np.arange(6, dtype=np.uint8).reshape(2, 3))
  ints = bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 1, 2])
  assert idx.parse_idx(ints)[0] == 258


def test_gzip_detected_by_content_not_name(tmp_path):
  path = tmp_path / "plainname"
  path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 2, 9, 8])))
  np.testing.assert_array_equal(idx.read_idx(path), [9, 8])


@pytest.mark.parametrize("raw,match", [
    (b"\x00\x00", "too short"),
    (bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]), "magic"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]), "magic"),
    (bytes([0, 0, 8, 0]), "0 dimensions"),
    (bytes([0, 0, 8, 3, 0, 0, 0, 1]), "truncated IDX header"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), "truncated"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), "trailing"),
])
def test_corrupt_raw_files_name_the_file(tmp_path, raw, match):
  path = tmp_path / "bad-idx1-ubyte"
  path.write_bytes(raw)
  with pytest.raises(idx.IdxError, match=match) as e:
    idx.read_idx(path)
  assert str(path) in str(e.value)


def test_truncated_gzip_names_the_file(tmp_path):
  path = tmp_path / "bad-idx3-ubyte.gz"
  path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 200]) + bytes(200))[:30])
  with pytest.raises(idx.IdxError, match="gzip") as e:
    idx.read_idx(path)
  assert str(path) in str(e.value)


def test_write_rejects_unsupported_dtype(tmp_path):
  with pytest.raises(ValueError, match="dtype"):
    idx.write_idx(tmp_path / "x", np.zeros(3, np.int64))
