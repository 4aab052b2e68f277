"""Every code block of docs/guide/ runs, on a tiny Fashion-MNIST-format dataset (real IDX files)."""

import glob
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import guide_blocks  # noqa: E402  pylint: disable=g-import-not-at-top
from tests.train.fixtures import write_tiny_fashion_mnist  # noqa: E402

GUIDE = os.path.join(ROOT, "docs", "guide")
CHAINS = {"nnx": ["1_nnx.md", "3_calibrate.md", "4_deploy.md"], "linen": ["2_linen.md"],
          "dsl": ["5_dsl.md"]}


def test_every_page_with_code_is_run():
  pages = {os.path.basename(p) for p in glob.glob(os.path.join(GUIDE, "*.md"))
           if guide_blocks.blocks(p)}
  assert pages == {page for chain in CHAINS.values() for page in chain}


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_guide_pages_run(chain, tmp_path):
  data_dir = write_tiny_fashion_mnist(str(tmp_path / "fmnist"), num_train=6400, num_test=256)
  settings = {"DATA_DIR": repr(data_dir), "NUM_STEPS": "20", "BATCH": "16"}
  namespace = guide_blocks.run_pages([os.path.join(GUIDE, p) for p in CHAINS[chain]], settings)
  if chain != "dsl":
    report = namespace["report"]
    assert 0.0 <= report["stop_rate"] <= 1.0 and report["recall"] >= 0.0
    assert report["flops"]["back"] > report["flops"]["front"] > 0
