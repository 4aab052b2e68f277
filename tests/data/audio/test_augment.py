"""Each training augmentation of keyword windows is a pure function of (seed, epoch, index)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet.data.audio import augment
from gcnet.data.audio import background as bg
from gcnet.data.audio import windows as aw
from gcnet.models.spec_augment import spec_augment

RATE = 8000


def _tone(n=3000, f=440.0):
  t = np.arange(n) / RATE
  return (0.3 * np.sin(2 * np.pi * f * t) * np.hanning(n)).astype(np.float32)


def test_speed_perturbation_changes_length_and_pitch_together():
  clip = _tone(4000, 500.0)
  fast = augment.speed_perturb(clip, 1.25)
  assert fast.shape == (3200,) and fast.dtype == np.float32
  np.testing.assert_array_equal(fast, augment.speed_perturb(clip, 1.25))
  peak = lambda x: np.argmax(np.abs(np.fft.rfft(x))) * RATE / x.shape[0]
  assert peak(fast) == pytest.approx(1.25 * peak(clip), rel=0.03)
  with pytest.raises(ValueError, match="positive"):
    augment.speed_perturb(clip, 0.0)


def test_pitch_shift_keeps_the_length_and_moves_the_pitch():
  clip = _tone(8000, 400.0)
  up = augment.pitch_shift(clip, 12.0, RATE)
  assert up.shape == clip.shape
  np.testing.assert_array_equal(up, augment.pitch_shift(clip, 12.0, RATE))
  peak = lambda x: np.argmax(np.abs(np.fft.rfft(x))) * RATE / x.shape[0]
  assert peak(up) == pytest.approx(800.0, rel=0.05)


def test_perturbed_clips_cache_and_variants():
  clips = [_tone(2000), _tone(3000, 300.0)]
  p = augment.PerturbedClips(lambda i: clips[i], RATE, speeds=(0.9,), semitones=(2.0,))
  assert p.num_variants == 3
  np.testing.assert_array_equal(p(1, 0), clips[1])
  first = p(1, 1)
  assert first is p(1, 1)                                    # cached
  assert first.shape == (3334,)                              # 0.9x speed: 10/9 longer
  fresh = augment.PerturbedClips(lambda i: clips[i], RATE, speeds=(0.9,), semitones=(2.0,))
  np.testing.assert_array_equal(fresh(1, 2), p(1, 2))        # recomputed identically


def test_rir_bank_is_seeded_and_reverberates():
  a, b = augment.RirBank(3, RATE, seed=1), augment.RirBank(3, RATE, seed=1)
  c = augment.RirBank(3, RATE, seed=2)
  for x, y in zip(a.rirs, b.rirs):
    np.testing.assert_array_equal(x, y)
  assert not np.array_equal(a.rirs[0][:200], c.rirs[0][:200])
  assert all(np.max(np.abs(r)) == pytest.approx(1.0) for r in a.rirs)
  click = np.zeros(4000, np.float32)
  click[100] = 1.0
  out = a.apply(click, 0)
  assert out.shape == click.shape and out[100] == pytest.approx(1.0, abs=1e-5)
  assert np.abs(out[400:]).sum() > 0.01                      # a reverberant tail
  with pytest.raises(ValueError, match="num_rirs"):
    augment.RirBank(0, RATE)


def test_noise_bank_crops_are_determined_by_the_generator():
  bank = augment.NoiseBank(RATE, seconds=2.0, seed=0)
  x = bank.crop(aw.example_rng(1, 2, 3), 1000)
  np.testing.assert_array_equal(x, augment.NoiseBank(RATE, 2.0, 0).crop(aw.example_rng(1, 2, 3),
                                                                         1000))
  assert not np.array_equal(x, bank.crop(aw.example_rng(1, 2, 4), 1000))
  assert bg.rms_db(bank.crop(aw.example_rng(0), 8000, "white")) == pytest.approx(0.0, abs=0.3)
  with pytest.raises(ValueError, match="shorter"):
    bank.crop(aw.example_rng(0), 10 ** 6)


ONLY = {
    "gain": dict(gain_db=(-10.0, 10.0), noise_prob=0.0),
    "shift": dict(shift=True, gain_db=(0.0, 0.0), noise_prob=0.0),
    "speed": dict(shift=False, gain_db=(0.0, 0.0), noise_prob=0.0, speeds=(0.8, 1.2),
                  perturb_prob=1.0),
    "pitch": dict(shift=False, gain_db=(0.0, 0.0), noise_prob=0.0, semitones=(-3.0, 3.0),
                  perturb_prob=1.0),
    "reverb": dict(shift=False, gain_db=(0.0, 0.0), noise_prob=0.0, reverb_prob=1.0, num_rirs=4),
    "noise": dict(shift=False, gain_db=(0.0, 0.0), noise_prob=1.0, snr_db=(0.0, 20.0)),
}


def _source(augmentation):
  clips = [_tone(2400, 300.0 + 100 * i) for i in range(4)]
  return aw.KwsWindows(lambda i: clips[i], np.array([0, 1, 2, 2]), np.array([0, 1, 2, 2]),
                       num_background=1, sampler=bg.BackgroundSampler(bed_noise_db=-130),
                       window_len=4000, split="train", seed=0, background_source=3,
                       augment=augmentation, sample_rate=RATE)


@pytest.mark.parametrize("name", sorted(ONLY))
def test_each_augmentation_alone_is_a_function_of_seed_epoch_index(name):
  source = _source(aw.Augment(**ONLY[name]))
  plain = _source(None)
  for index in range(4):
    x = source.augmented(index, 3, 7)["inputs"]
    np.testing.assert_array_equal(x, _source(aw.Augment(**ONLY[name])).augmented(index, 3, 7)
                                  ["inputs"])                # rebuilt: the same example
    epochs = {source.augmented(index, e, 7)["inputs"].tobytes() for e in range(8)}
    assert len(epochs) > 1                                   # other epochs, other draws
    assert not np.array_equal(x, plain.augmented(index, 3, 7)["inputs"])    # it did something
  # Different index, same epoch: a different draw (the same clip at eight indices).
  same_clip = aw.KwsWindows(lambda i: _tone(2400), np.zeros(8, np.int32), np.array([0, 1]), 0,
                            bg.BackgroundSampler(bed_noise_db=-130), 4000, "train",
                            augment=aw.Augment(**ONLY[name]), sample_rate=RATE)
  assert len({same_clip.augmented(i, 3, 7)["inputs"].tobytes() for i in range(8)}) > 1


def test_spec_augment_masks_are_keyed_by_step_and_position():
  feats = jnp.ones((4, 49, 40))
  key = jax.random.key(3)
  a = spec_augment(feats, key, num_time_masks=2, max_time=6, num_freq_masks=2, max_freq=5)
  np.testing.assert_array_equal(a, spec_augment(feats, key, 2, 6, 2, 5))
  assert not np.array_equal(a, spec_augment(feats, jax.random.key(4), 2, 6, 2, 5))
  assert not np.array_equal(a[0], a[1])                      # each position its own masks
  masked = np.asarray(a == 0)
  for b in range(4):
    rows = masked[b].all(axis=1).sum()                       # fully masked frames
    cols = masked[b].all(axis=0).sum()                       # fully masked mel bands
    assert rows <= 12 and cols <= 10
    # Every masked cell lies in a masked frame or a masked band.
    assert (masked[b] == (masked[b].all(1)[:, None] | masked[b].all(0)[None, :])).all()
  np.testing.assert_array_equal(spec_augment(feats, key, 0, 6, 0, 5), feats)   # off: unchanged
