"""SIGTERM (a preemption notice) asks the loop to save a checkpoint and exit cleanly."""

import signal
import threading


class PreemptionFlag:
  """Set by SIGTERM; the loop polls `requested` between steps."""

  def __init__(self):
    self._event = threading.Event()
    self._previous = None

  def install(self) -> "PreemptionFlag":
    if threading.current_thread() is threading.main_thread():
      self._previous = signal.signal(signal.SIGTERM, lambda *_: self._event.set())
    return self

  @property
  def requested(self) -> bool:
    return self._event.is_set()

  def uninstall(self) -> None:
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)
      self._previous = None
