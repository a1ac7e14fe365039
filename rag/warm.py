"""Cheap construction, loading on demand (the contract of Haystack 2.x components): building a model
wrapper does no work, ``warm_up()`` loads the model, and first use calls it when nobody did. Callers
that time what follows (the server start, ``rag bench``) call ``warm_up()`` first."""

from __future__ import annotations

import threading
from typing import Any


class WarmUp:
    """``_load`` sets ``self._model`` (last, once everything else it needs is set); ``warm_up`` runs it
    once, however many threads of the web server ask at the same time."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        raise NotImplementedError
