"""The wheel works outside the repository: `python -m build`, a fresh virtual environment, and from
another directory `import gcnet.ops, gcnet.nn`, the guide's first example, `gcnet.cli.train --help`.

The fresh environment gets the wheel with `pip install --no-deps`; its dependencies are the pinned
ones of the environment running the test (its site-packages made visible by a `.pth` file, which
does not activate that environment's own gcnet), and `pip check` verifies that they satisfy the
wheel's declared requirements. With `GCNET_WHEEL_ONLINE=1` the dependencies are installed from the
package index instead, pinned by constraints.txt (minutes; needs the network).
"""

import os
import subprocess
import sys
import sysconfig
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import guide_blocks  # noqa: E402  pylint: disable=g-import-not-at-top
from tests.train.fixtures import write_tiny_fashion_mnist  # noqa: E402


def _run(cmd, cwd, timeout=600, env=None, ok=(0,)):
  result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
  assert result.returncode in ok, f"{cmd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
  return result.stdout


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_repository(tmp_path):
  dist = tmp_path / "dist"
  _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), ROOT], ROOT)
  (wheel,) = dist.glob("gcnet-*.whl")
  names = zipfile.ZipFile(wheel).namelist()
  assert "gcnet/insert/nnx_insert.py" in names and "gcnet/runtime/standalone.py" in names
  assert not any(n.startswith(("tests/", "experiments/", "benchmarks/")) for n in names)

  venv = tmp_path / "venv"
  _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
  python = str(venv / "bin" / "python")
  if os.environ.get("GCNET_WHEEL_ONLINE") == "1":
    _run([python, "-m", "pip", "install", "-q", "-c", os.path.join(ROOT, "constraints.txt"),
          str(wheel)], tmp_path, timeout=1800)
  else:
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                tmp_path).strip()
    with open(os.path.join(site, "pinned_dependencies.pth"), "w") as f:
      f.write(sysconfig.get_paths()["purelib"] + "\n")
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], tmp_path)
  # The wheel's own requirements must hold; problems between other packages of the environment
  # that lends its site-packages (e.g. an optional torch wanting a newer setuptools) are not ours.
  problems = _run([python, "-m", "pip", "check"], tmp_path, ok=(0, 1)).splitlines()
  assert not [line for line in problems if line.lower().startswith("gcnet ")], problems

  elsewhere = tmp_path / "elsewhere"
  elsewhere.mkdir()
  env = {"PYTHONPATH": "", "JAX_PLATFORMS": "cpu"}
  where = _run([python, "-c", "import gcnet, gcnet.ops, gcnet.nn, gcnet.insert; "
                "print(gcnet.__file__)"], elsewhere, env=env)
  assert where.strip().startswith(str(venv)), where

  data_dir = write_tiny_fashion_mnist(str(tmp_path / "fmnist"), num_train=6400, num_test=256)
  settings = {"DATA_DIR": repr(data_dir), "NUM_STEPS": "5", "BATCH": "8"}
  page = os.path.join(ROOT, "docs", "guide", "1_nnx.md")
  script = "\n".join(guide_blocks.apply_settings(b, settings) for b in guide_blocks.blocks(page))
  (elsewhere / "first_example.py").write_text(script)
  out = _run([python, "first_example.py"], elsewhere, env=env)
  assert "step 4: loss" in out

  # absl's --help prints the flags and exits with status 1.
  help_text = _run([python, "-m", "gcnet.cli.train", "--help"], elsewhere, env=env, ok=(0, 1))
  assert "--config" in help_text and "--workdir" in help_text
