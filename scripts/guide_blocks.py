"""Runs the Python code blocks of user-guide pages, in order, in one namespace.

  python scripts/guide_blocks.py docs/guide/1_nnx.md docs/guide/3_calibrate.md \
      docs/guide/4_deploy.md [--set NUM_STEPS=100 --set DATA_DIR='"/tmp/tiny"']

`--set NAME=VALUE` replaces the line `NAME = ...` of a block (the pages' settings: data directory,
steps) by `NAME = VALUE`; tests/test_guide.py runs every page this way on tiny data.
"""

import argparse
import re
import time

FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks(path: str) -> list[str]:
  """The ```python blocks of a Markdown file, in order."""
  with open(path) as f:
    return FENCE.findall(f.read())


def apply_settings(code: str, settings: dict[str, str]) -> str:
  for name, value in settings.items():
    code = re.sub(rf"^{name} = .*$", f"{name} = {value}", code, flags=re.M)
  return code


def run_pages(paths, settings=None, namespace=None, verbose: bool = False) -> dict:
  """Executes every block of `paths` in order in `namespace`; returns the namespace."""
  namespace = {"__name__": "__guide__"} if namespace is None else namespace
  for path in paths:
    for i, code in enumerate(blocks(path)):
      start = time.time()
      exec(compile(apply_settings(code, settings or {}), f"{path}[block {i}]", "exec"), namespace)
      if verbose:
        print(f"--- {path} block {i}: {time.time() - start:.1f} s", flush=True)
  return namespace


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("pages", nargs="+")
  parser.add_argument("--set", action="append", default=[], help="NAME=VALUE")
  parser.add_argument("--json", default="", help="write the namespace's `report` dict here")
  args = parser.parse_args()
  settings = dict(s.split("=", 1) for s in args.set)
  namespace = run_pages(args.pages, settings, verbose=True)
  if args.json and "report" in namespace:
    import json  # pylint: disable=g-import-not-at-top
    with open(args.json, "w") as f:
      json.dump(namespace["report"], f, indent=2)


if __name__ == "__main__":
  main()
