"""The interface every store implements, so retrieval, answering, web and eval never care which."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ...records import Chunk, Document


@dataclass(frozen=True)
class StoreInfo:
    documents: int
    chunks: int
    model: str
    model_fingerprint: str
    dimension: int
    location: str
    details: dict[str, Any]


class Store(Protocol):
    info: StoreInfo

    def chunk(self, row: int) -> Chunk: ...

    def document(self, doc_id: str) -> Document | None: ...

    def documents(self) -> list[Document]: ...

    def dense_search(self, vectors: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each query vector, (scores, rows) best first; rows index ``chunk``."""
        ...

    def lexical_search(self, question: str, k: int) -> tuple[np.ndarray, np.ndarray]: ...
