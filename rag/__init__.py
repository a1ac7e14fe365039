"""An offline question-answering assistant over your own documents, with verbatim citations.

    from rag import Assistant, build_index, Settings
    build_index(["seeds"])
    result = Assistant.load("index").ask("Where will Trump and Putin meet?")
    print(result.to_dict())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The public names, imported on first use (PEP 562): `import rag.cli` for `rag --help` or a usage
# error then costs no FAISS, bm25s or numba import.
_EXPORTS = {
    "Assistant": ".assistant",
    "build_index": ".index.build",
    "BuildReport": ".index.build",
    "Settings": ".settings",
    "UserError": ".errors",
    "Answer": ".records",
    "Chunk": ".records",
    "Document": ".records",
    "Passage": ".records",
    "Result": ".records",
}

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ below imports them
    from .assistant import Assistant as Assistant
    from .errors import UserError as UserError
    from .index.build import BuildReport as BuildReport
    from .index.build import build_index as build_index
    from .records import Answer as Answer
    from .records import Chunk as Chunk
    from .records import Document as Document
    from .records import Passage as Passage
    from .records import Result as Result
    from .settings import Settings as Settings

__all__ = list(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
