"""Windows, background noise and deterministic augmentation (audio_windows, background)."""

import numpy as np
import pytest

from gcnet.data.audio import windows as aw
from gcnet.data.audio import background as bg


def test_place_centres_pads_and_crops():
  clip = np.arange(1, 5, dtype=np.float32)
  np.testing.assert_array_equal(aw.place(clip, 8, aw.centre_offset(4, 8)),
                                [0, 0, 1, 2, 3, 4, 0, 0])
  np.testing.assert_array_equal(aw.place(clip, 2, aw.centre_offset(4, 2)), [2, 3])
  np.testing.assert_array_equal(aw.place(clip, 6, -2, bed=np.ones(6)), [4, 5, 1, 1, 1, 1])


def test_random_offset_keeps_the_clip_inside():
  rng = np.random.default_rng(0)
  shorter = [aw.random_offset(rng, 3, 10) for _ in range(300)]
  assert min(shorter) == 0 and max(shorter) == 7
  longer = [aw.random_offset(rng, 10, 3) for _ in range(300)]
  assert min(longer) == -7 and max(longer) == 0


def test_sliding_windows_cover_a_long_recording():
  wave = np.arange(10, dtype=np.float32)
  windows = aw.sliding_windows(wave, 4, 3)
  np.testing.assert_array_equal(windows, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
  windows = aw.sliding_windows(wave, 4, 4)   # the tail is zero-padded
  np.testing.assert_array_equal(windows[-1], [8, 9, 0, 0])
  assert aw.sliding_windows(wave[:2], 4, 2).shape == (1, 4)


def test_mix_at_snr_reaches_the_ratio():
  rng = np.random.default_rng(1)
  clip = rng.standard_normal(4000).astype(np.float32) * 0.1
  noise = bg.coloured_noise(rng, 4000, "pink")
  mixed = aw.mix_at_snr(clip, noise, 10.0)
  assert bg.rms_db(clip) - bg.rms_db(mixed - clip) == pytest.approx(10.0, abs=1e-3)


@pytest.mark.parametrize("colour,slope", [("white", 0.0), ("pink", -1.0), ("brown", -2.0),
                                          ("blue", 1.0)])
def test_coloured_noise_has_the_spectral_slope(colour, slope):
  noise = bg.coloured_noise(np.random.default_rng(2), 2 ** 16, colour)
  assert bg.rms_db(noise) == pytest.approx(0.0, abs=1e-4)
  power = np.abs(np.fft.rfft(noise)) ** 2
  f = np.arange(power.size)
  band = (f > 50) & (f < power.size - 50)
  fitted = np.polyfit(np.log(f[band]), np.log(power[band]), 1)[0]
  assert fitted == pytest.approx(slope, abs=0.1)


def test_real_background_splits_are_disjoint(tmp_path):
  import soundfile  # pylint: disable=g-import-not-at-top
  for i in range(10):
    soundfile.write(str(tmp_path / f"s{i}.wav"), np.full(100 + i, i / 20, np.float32), 8000)
  (tmp_path / "broken.wav").write_bytes(b"junk")        # skipped, not fatal
  real = bg.load_real_background([str(tmp_path)], 8000)
  sizes = {s: sorted(w.size for w in v) for s, v in real.items()}
  assert [len(sizes[s]) for s in ("train", "validation", "test")] == [7, 1, 2]
  assert len(set(sum(sizes.values(), []))) == 10


def test_sampler_is_deterministic_and_draws_every_kind():
  real = [np.sin(np.arange(3000) / 5.0).astype(np.float32)]
  sampler = bg.BackgroundSampler(real=real, weights={"silence": 1, "noise": 1, "real": 1})
  kinds = [sampler.window(aw.example_rng(0, i), 8000)[1] for i in range(60)]
  assert set(kinds) == {"silence", "noise", "real"}
  a, kind = sampler.window(aw.example_rng(0, 5), 8000)
  b, _ = sampler.window(aw.example_rng(0, 5), 8000)
  np.testing.assert_array_equal(a, b)
  assert a.dtype == np.float32 and a.shape == (8000,)
  silent = next(i for i, k in enumerate(kinds) if k == "silence")
  assert bg.rms_db(sampler.window(aw.example_rng(0, silent), 8000)[0]) == pytest.approx(-70, abs=1)
  no_real = bg.BackgroundSampler(weights={"real": 1.0, "noise": 1.0})
  assert no_real.kind_probs() == {"noise": 1.0}
  with pytest.raises(ValueError, match="leave no kind"):
    bg.BackgroundSampler(weights={"real": 1.0})
  with pytest.raises(ValueError, match="Unknown background kinds"):
    bg.BackgroundSampler(weights={"rain": 1.0})


def _windows(augment):
  clips = [np.full(n, 0.1 * (i + 1), np.float32) for i, n in enumerate((300, 1200, 500))]
  table = np.array([0, 1, 2, 2], np.int32)   # source classes 0, 1 -> labels 0, 1; rest -> 2
  return aw.KwsWindows(lambda i: clips[i], np.array([0, 1, 2]), table, num_background=2,
                       sampler=bg.BackgroundSampler(), window_len=1000, split="train", seed=3,
                       background_source=3, augment=augment)


def test_kws_windows_labels_and_eval_determinism():
  source = _windows(aw.Augment())
  assert len(source) == 5
  assert [int(source[i]["label"]) for i in range(5)] == [0, 1, 2, 2, 2]
  assert [int(source[i]["source_label"]) for i in range(5)] == [0, 1, 2, 3, 3]
  first = source[0]["inputs"]
  np.testing.assert_array_equal(first, _windows(None)[0]["inputs"])   # rebuilt: same window
  # Centred: the clip occupies samples 350..649 on a faint bed.
  assert np.abs(first[350:650] - 0.1).max() < 0.01 and np.abs(first[:350]).max() < 0.01
  with pytest.raises(IndexError):
    source[5]  # pylint: disable=pointless-statement


def test_augmentation_is_a_pure_function_of_seed_epoch_index():
  source = _windows(aw.Augment(noise_prob=0.5))
  for i in range(len(source)):
    a = source.augmented(i, epoch=2, seed=7)["inputs"]
    rebuilt = _windows(aw.Augment(noise_prob=0.5))   # a fresh source, e.g. in another worker
    np.testing.assert_array_equal(a, rebuilt.augmented(i, epoch=2, seed=7)["inputs"])
    np.testing.assert_array_equal(a, source.augmented(i, epoch=2, seed=7)["inputs"])
    assert not np.array_equal(a, source.augmented(i, epoch=3, seed=7)["inputs"])
    assert not np.array_equal(a, source.augmented(i, epoch=2, seed=8)["inputs"])
    assert np.abs(a).max() <= 1.0
  # Order does not matter (random access): index 1 alone equals index 1 after others.
  view = aw.AugmentedView(_windows(aw.Augment()), seed=7, epoch=2)
  np.testing.assert_array_equal(view[1]["inputs"], source.augmented(1, 2, 7)["inputs"])
  # Shifts differ between epochs: the clip's first sample moves.
  starts = {int(np.argmax(np.abs(source.augmented(0, e, 7)["inputs"]) > 0.02)) for e in range(8)}
  assert len(starts) > 3
  # Without augmentation the training example is the evaluation example.
  plain = _windows(None)
  np.testing.assert_array_equal(plain.augmented(0, 4, 7)["inputs"], plain[0]["inputs"])


def test_background_window_from_a_noise_bank_crops_it_at_the_drawn_level():
  from gcnet.data.audio import augment  # pylint: disable=g-import-not-at-top
  bank = augment.NoiseBank(8000, seconds=2.0, seed=0)
  sampler = bg.BackgroundSampler(weights={"noise": 1.0}, noise_level_db=(-30.0, -30.0),
                                 bed_noise_db=-130.0, colours=("pink",))
  window, kind = sampler.window(aw.example_rng(0, 1), 4000, bank)
  assert kind == "noise" and bg.rms_db(window) == pytest.approx(-30.0, abs=0.5)
  pink = bank._banks["pink"] * np.float32(10 ** (-30 / 20))  # pylint: disable=protected-access
  assert any(np.allclose(pink[i:i + 4000], window) for i in range(pink.size - 3999))  # a crop
  np.testing.assert_array_equal(window, sampler.window(aw.example_rng(0, 1), 4000, bank)[0])
  with pytest.raises(ValueError, match="no 'violet' noise"):
    bank.crop(aw.example_rng(0), 100, "violet")
