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
