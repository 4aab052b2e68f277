"""No module imports a layer above its own: the order is the one docs/architecture.md writes down
(its "Import order:" line), checked on the import graph of gcnet/, launch/ and benchmarks/ read with
`ast` (function-level imports and `importlib.import_module("...")` included, nothing is run)."""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOP_LEVELS = ("gcnet", "launch", "benchmarks")


def documented_order() -> list[str]:
  text = (ROOT / "docs" / "architecture.md").read_text()
  match = re.search(r"^Import order: `([^`]+)`", text, flags=re.M)
  assert match, "docs/architecture.md has no line 'Import order: `a < b < ...`'"
  return [name.strip() for name in match.group(1).split("<")]


def layer_of_module(name: str) -> str | None:
  """The layer of a dotted module name: `gcnet.<layer>...`, `launch` or `benchmarks`; None for
  other modules and for the `gcnet` package itself."""
  parts = name.split(".")
  if parts[0] == "gcnet":
    return parts[1] if len(parts) > 1 else None
  return parts[0] if parts[0] in TOP_LEVELS else None


def layer_of_path(path: pathlib.Path) -> str | None:
  parts = path.relative_to(ROOT).with_suffix("").parts
  if parts[0] == "gcnet":
    return None if parts[1:] == ("__init__",) else parts[1]
  return parts[0]


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
  """`(line, module)` of every import in `tree` (for `from a import b`, both `a` and `a.b`)."""
  out = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      out += [(node.lineno, a.name) for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      out += [(node.lineno, node.module)]
      out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
          and node.func.attr == "import_module" and node.args
          and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
      out.append((node.lineno, node.args[0].value))
  return out


def upward_imports(path: pathlib.Path, source: str, order: list[str]) -> list[str]:
  own = layer_of_path(path)
  if own is None:
    return []
  rank = {name: i for i, name in enumerate(order)}
  bad = []
  for line, module in imported_modules(ast.parse(source)):
    target = layer_of_module(module)
    if target is None or target == own:
      continue
    if target not in rank or own not in rank:
      bad.append(f"{path.relative_to(ROOT)}:{line}: {own} or {target} is not in the documented "
                 "order: add it to the 'Import order:' line of docs/architecture.md")
    elif rank[target] > rank[own]:
      bad.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {module} ({target})")
  return bad


MODULES = sorted(p for top in TOP_LEVELS for p in (ROOT / top).rglob("*.py"))


def test_every_layer_is_placed_in_the_documented_order():
  order = documented_order()
  assert len(order) == len(set(order)), order
  layers = {layer_of_path(p) for p in MODULES} - {None}
  assert layers == set(order), (f"layers not in the documented order: {layers - set(order)}; "
                                f"documented but absent: {set(order) - layers}")


def test_the_checker_sees_upward_imports_inside_functions():
  order = documented_order()
  source = ("from gcnet import ops\ndef f():\n  from gcnet.runtime import load_run\n"
            "importlib.import_module('gcnet.cli.train')\n")
  bad = upward_imports(ROOT / "gcnet" / "eval" / "x.py", source, order)
  assert [b.split(" imports ")[1] for b in bad] == [
      "gcnet.runtime (runtime)", "gcnet.runtime.load_run (runtime)", "gcnet.cli.train (cli)"]


@pytest.mark.parametrize("top", TOP_LEVELS)
def test_no_module_imports_a_layer_above_it(top):
  order = documented_order()
  modules = [p for p in MODULES if p.relative_to(ROOT).parts[0] == top]
  assert modules
  bad = [b for p in modules for b in upward_imports(p, p.read_text(), order)]
  assert not bad, "imports against the documented order " + " < ".join(order) + ":\n" + \
      "\n".join(bad)
