"""Optional features and the pip extra that installs each: a missing one is one line that says what to
install, never an ImportError traceback. Milvus, evaluation and training are extras of ``rag-offline``
(pyproject.toml); the core (index, ask, serve) needs none of them."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from .errors import UserError

PACKAGE = "rag-offline"


class MissingExtra(UserError):
    pass


def install_hint(feature: str, extra: str) -> str:
    return f"{feature} needs the {extra} extra: pip install '{PACKAGE}[{extra}]'"


def require(module: str, extra: str, feature: str) -> ModuleType:
    """``module`` imported, or MissingExtra naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        hint = install_hint(feature, extra)
        if missing and module.split(".")[0] != missing.split(".")[0]:
            # Installed but broken (one of its own dependencies is missing): say which, too.
            hint += f" (importing {module} failed: {exc})"
        raise MissingExtra(hint) from None


def check(module: str, extra: str, feature: str) -> None:
    """Fail now, before any slow work, when ``module`` is not installed; found without importing it (an
    import here would move its cost into whatever is timed next)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise MissingExtra(install_hint(feature, extra))
