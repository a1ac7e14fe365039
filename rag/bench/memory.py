"""Peak resident memory of this process, for the bench reports."""

from __future__ import annotations

import resource


def peak_rss() -> int:
    """Bytes (``ru_maxrss`` is in KiB on Linux)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024
