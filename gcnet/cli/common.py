"""What every gcnet command-line tool does the same way: flags defined only when the tool runs,
Orbax's INFO logs off unless -v is given, and bad input as one line on stderr with exit status 1."""

import sys
from typing import Callable

from absl import app
from absl import flags
from absl import logging

USER_ERRORS = (FileNotFoundError, ValueError)   # ValueError includes WrongRunKind, AudioReadError


def quiet_logging() -> None:
  """WARNING and above unless the user asked for a verbosity (Orbax logs every restore at INFO)."""
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)


def run_tool(define_flags: Callable[[], None], main: Callable[[list], int | None], *,
             user_errors: tuple[type[Exception], ...] = USER_ERRORS,
             flags_parser: Callable | None = None) -> None:
  """Defines the tool's flags, parses them (with `flags_parser`, else absl's) and runs
  `main(argv)`; an exception of `user_errors` is one line on stderr and exit status 1."""
  define_flags()

  def guarded(argv):
    if len(argv) > 1:
      raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    quiet_logging()
    try:
      return main(argv)
    except user_errors as e:
      print(f"error: {e}", file=sys.stderr)
      return 1

  app.run(guarded, **({"flags_parser": flags_parser} if flags_parser else {}))
