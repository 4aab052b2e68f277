"""gcnet.train knows no kind of training: its modules import no model, audio or task code (not even
inside functions) and name no task. Read from the source with `ast`, so no import runs."""

import ast
import pathlib
import re

import pytest

import gcnet.train

TRAIN = pathlib.Path(gcnet.train.__file__).parent
MODULES = sorted(TRAIN.glob("*.py"))
FORBIDDEN_IMPORTS = ("gcnet.models", "gcnet.audio", "gcnet.tasks")
# Task names and the vocabulary of the tasks (case-insensitive, whole words and their plurals).
TASK_WORDS = re.compile(r"\b(codecs?|classification|classifiers?|gates?|gated|gc|dsl|keywords?|kws|"
                        r"labels?|audio|mel|speech|images?)\b", re.IGNORECASE)


def _imported_modules(tree: ast.AST) -> list[str]:
  """Every module that an `import` or `from ... import` anywhere in `tree` names (with `from a
  import b`, both `a` and `a.b`, since `b` may be a module)."""
  names = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names += [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module:
      names.append(node.module)
      names += [f"{node.module}.{alias.name}" for alias in node.names]
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
          and node.func.attr == "import_module" and node.args
          and isinstance(node.args[0], ast.Constant)):
      names.append(node.args[0].value)
  return names


def _forbidden(name: str) -> bool:
  return any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IMPORTS)


def test_the_checker_sees_function_level_and_from_imports():
  tree = ast.parse("def f():\n  from gcnet import models\n  import gcnet.audio.quality\n"
                   "from gcnet import tasks as t\nimportlib.import_module('gcnet.tasks.codec')\n")
  assert sorted(n for n in _imported_modules(tree) if _forbidden(n)) == [
      "gcnet.audio.quality", "gcnet.models", "gcnet.tasks", "gcnet.tasks.codec"]
  assert TASK_WORDS.search("the Gate stats") and not TASK_WORDS.search("GCNET_PROCESS_ID gcnet")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_train_module_imports_no_model_audio_or_task(path):
  assert len(MODULES) >= 10, MODULES
  bad = [n for n in _imported_modules(ast.parse(path.read_text())) if _forbidden(n)]
  assert not bad, f"{path.name} imports {bad}: gcnet.train must receive the task, not import it."


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_train_module_names_no_task(path):
  hits = [(i, m.group(0)) for i, line in enumerate(path.read_text().splitlines(), 1)
          for m in TASK_WORDS.finditer(line)]
  assert not hits, f"{path.name} mentions task-specific words at (line, word) {hits}."
