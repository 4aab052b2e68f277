"""The README's layout table lists exactly what `ls gcnet` shows (packages and top-level modules)."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_layout_matches_the_package():
  with open(os.path.join(ROOT, "README.md")) as f:
    listed = set(re.findall(r"^\| `gcnet/([\w.]+?)/?` \|", f.read(), flags=re.M))
  present = {n for n in os.listdir(os.path.join(ROOT, "gcnet"))
             if n != "__init__.py" and not n.startswith(("_", ".")) and
             (n.endswith(".py") or os.path.isfile(os.path.join(ROOT, "gcnet", n, "__init__.py")))}
  assert listed == present


# Test directories that test behaviour across packages rather than one package.
CROSS_CUTTING = {"reliability"}


def test_tests_mirror_the_packages():
  """Every test directory is the path of a package of gcnet/ (or launch/, benchmarks/)."""
  tests = os.path.join(ROOT, "tests")
  for folder, subdirs, files in os.walk(tests):
    subdirs[:] = [d for d in subdirs if not d.startswith(("_", "."))]
    rel = os.path.relpath(folder, tests)
    if rel == "." or rel.split(os.sep)[0] in CROSS_CUTTING or not any(
        f.startswith("test_") for f in files):
      continue
    top = rel.split(os.sep)[0]
    package = (os.path.join(ROOT, rel) if top in ("launch", "benchmarks")
               else os.path.join(ROOT, "gcnet", rel))
    assert os.path.isdir(package), f"tests/{rel} mirrors no package ({package} does not exist)"
