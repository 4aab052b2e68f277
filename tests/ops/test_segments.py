"""Segments and windows of a sequence (gcnet.ops.segments): exact values on small arrays."""

import jax.numpy as jnp
import numpy as np
import pytest

from gcnet import ops


def test_segment_features_windows_and_assembly():
  h = jnp.arange(12, dtype=jnp.float32).reshape(1, 6, 2)          # frames (0,1), (2,3), ...
  np.testing.assert_array_equal(ops.segment_features(h, 3), [[[2.0, 3.0], [8.0, 9.0]]])
  windows = ops.segment_windows(h, segment_frames=3, context_frames=1)
  assert windows.shape == (2, 4, 2)
  np.testing.assert_array_equal(windows[0, :, 0], [0, 0, 2, 4])   # zero context before the start
  np.testing.assert_array_equal(windows[1, :, 0], [4, 6, 8, 10])  # the previous segment's last
  y = jnp.repeat(windows, 2, axis=1)                              # 2 outputs per frame
  kept = ops.drop_context(y, window_frames=4, context_frames=1)
  np.testing.assert_array_equal(kept[1, :, 0], [6, 6, 8, 8, 10, 10])
  np.testing.assert_array_equal(ops.assemble_segments(kept, 1)[0, :, 0],
                                [0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10])
  with pytest.raises(ValueError, match="not a multiple of segment_frames=4"):
    ops.segment_features(h, 4)


def test_decode_segments_mixes_per_segment_and_forces():
  h = jnp.ones((1, 4, 1))
  r, stats = ops.switch(jnp.array([[3.0, -3.0]]), "hard")           # heavy, then light
  heavy, light = (lambda w: 10.0 * w), (lambda w: -w)
  y, r_out, _ = ops.decode_segments(h, r, stats, heavy, light, 2, 0)
  np.testing.assert_array_equal(y[0, :, 0], [10, 10, -1, -1])
  y, r_out, forced = ops.decode_segments(h, r, stats, heavy, light, 2, 0, force="light")
  np.testing.assert_array_equal(y[0, :, 0], [-1, -1, -1, -1])
  np.testing.assert_array_equal(r_out, [[0.0, 0.0]])
  np.testing.assert_array_equal(forced.heavy, [[0.0, 0.0]])
  np.testing.assert_array_equal(forced.prob, stats.prob)           # the switch's own outputs kept
  with pytest.raises(ValueError, match="force='both'"):
    ops.force_route(r, stats, "both")
