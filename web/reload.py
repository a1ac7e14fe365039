"""Picks up a new index version while serving: a daemon thread asks the assistant to ``refresh()``
every few seconds. The swap itself is the assistant's (atomic; requests in flight finish on the old
store); this only decides when, and says once per problem what went wrong."""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("rag")


class IndexWatcher:
    def __init__(self, assistant: Any, interval: float) -> None:
        self.assistant = assistant
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error = ""
        self.swaps = 0

    @property
    def enabled(self) -> bool:
        return self.interval > 0 and callable(getattr(self.assistant, "refresh", None))

    def start(self) -> None:
        if not self.enabled or (self._thread is not None and self._thread.is_alive()):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="rag-index-watcher", daemon=True)
        self._thread.start()

    def check(self) -> bool:
        """One look; True when the server switched to a new version."""
        try:
            swapped = bool(self.assistant.refresh())
        except Exception as exc:  # a half-written or incompatible index must not stop the server
            message = f"{type(exc).__name__}: {exc}"
            if message != self._last_error:
                log.warning("not switching to the new index: %s", message)
                self._last_error = message
            return False
        if swapped:
            self.swaps += 1
            self._last_error = ""
            log.info("switched to the new index version %s", self.assistant.index_version())
        return swapped

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
