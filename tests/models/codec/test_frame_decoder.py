"""The Vocos-style frame-rate decoder: an exact inverse STFT head, causality, windowed decoding."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet.models.codec import from_config
from gcnet.models.codec.frame_decoder import FrameDecoder, overlap_add, synthesis_window


@pytest.mark.parametrize("overlap", [2, 3, 4])
def test_irfft_overlap_add_inverts_a_hann_stft(overlap):
  hop, frames = 40, 30
  n_fft = overlap * hop
  x = np.random.default_rng(0).standard_normal(hop * frames)
  padded = np.concatenate([np.zeros(n_fft - hop), x])  # frame f covers [f hop, f hop + n_fft)
  window = np.hanning(n_fft + 1)[:-1]
  spectra = np.fft.rfft(np.stack([padded[f * hop:f * hop + n_fft] * window
                                  for f in range(frames)]), axis=-1)
  synth = np.fft.irfft(spectra, n=n_fft, axis=-1) * synthesis_window(n_fft, hop)
  out = np.asarray(overlap_add(jnp.asarray(synth[None], jnp.float32), hop))[0]
  # Hop f sums frames f - overlap + 1 .. f: complete from hop overlap - 1 on.
  np.testing.assert_allclose(out[n_fft - hop:], padded[n_fft - hop:hop * frames], atol=1e-5)


def test_frame_decoder_is_causal_per_frame():
  decoder = FrameDecoder(channels=16, num_blocks=2)
  h = jax.random.normal(jax.random.key(0), (1, 12, 8))
  params = decoder.init(jax.random.key(1), h)
  y = decoder.apply(params, h)
  assert y.shape == (1, 12 * 40) and y.dtype == jnp.float32
  changed = decoder.apply(params, h.at[:, 7:].set(0.0))
  np.testing.assert_array_equal(y[:, :7 * 40], changed[:, :7 * 40])
  assert not np.allclose(y[:, 7 * 40:], changed[:, 7 * 40:])


def test_frame_codec_heavy_is_wider_than_light_and_trains():
  model = from_config({"size": "tiny", "decoder_kind": "frame"})
  wave = 0.1 * jax.random.normal(jax.random.key(0), (2, 640))
  variables = model.init(jax.random.key(1), wave)
  switch = variables["params"]["switch"]
  count = lambda t: sum(x.size for x in jax.tree.leaves(t))
  assert count(switch["heavy"]) > 2 * count(switch["light"])
  assert "block0" in switch["heavy"] and "head" in switch["light"]
  loss = lambda p: jnp.mean(jnp.square(model.apply({**variables, "params": p}, wave,
                                                   force="heavy")["recon"] - wave))
  grads = jax.grad(loss)(variables["params"])
  assert float(jnp.abs(grads["switch"]["heavy"]["head"]["kernel"]).sum()) > 0
  with pytest.raises(ValueError, match="decoder_kind"):
    from_config({"size": "tiny", "decoder_kind": "vocoder"}).init(jax.random.key(0), wave)
