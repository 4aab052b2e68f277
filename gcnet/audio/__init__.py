"""Audio signal processing in JAX shared by the keyword-spotting and codec models."""

from gcnet.audio.mel import frame, log_mel_spectrogram, mel_filterbank, stft_magnitude
