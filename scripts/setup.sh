#!/usr/bin/env bash
# Installs what gcnet needs on a Debian-like machine: the Fashion-MNIST Debian package (real data)
# and a virtual environment .venv with gcnet and its dev extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real data from Debian: Fashion-MNIST; the keyword spotter's real negatives (sounds, music, a
# recorded voice, human speech in other languages; gcnet/data/audio/negatives.py names each source);
# synthesizers for training voices and confusable words (espeak-ng, flite, festival and its voices,
# the CMU dictionary); sox for the GSM prompts; and the codec's speech corpus (six professional
# prompt speakers; gcnet/data/audio/speech_corpus.py).
DEBIAN_PACKAGES="dataset-fashion-mnist sound-theme-freedesktop tuxtype-data alsa-utils \
  deepin-sound-theme neverball-data espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k \
  festvox-us-slt-hts festlex-cmu festlex-poslex sox asterisk-core-sounds-es-wav \
  asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-prompt-es-co \
  asterisk-prompt-fr-armelle asterisk-prompt-it-menardi-wav"
missing=""
if command -v dpkg >/dev/null; then
  for p in $DEBIAN_PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
else
  echo "Not a Debian-like system: install the equivalents of $DEBIAN_PACKAGES yourself." >&2
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  elif command -v sudo >/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  else
    echo "Missing Debian packages:$missing. Install them (apt-get install$missing);" \
         "Fashion-MNIST can also come from --config.data.source_dir=DIR." >&2
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# Pinned: the versions of constraints.txt (pyproject.toml keeps ranges for library users).
.venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]"
