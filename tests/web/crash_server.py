"""A server for the kill -9 test (tests/web/test_crash.py): the app over a local index with the fast
fake embedder, slowed so that an upload's job lasts long enough to be killed part way.

    python -m tests.web.crash_server INDEX_DIR PORT
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import uvicorn

from rag import Settings
from rag.assistant import Assistant
from rag.index.store.local import LocalStore
from tests.conftest import HashEmbedder
from web.app import create_app


class SlowEmbedder(HashEmbedder):
    def encode_with_sentences(self, texts, spans, progress: bool = False):
        time.sleep(0.01 * len(texts))  # ~0.3 s for the test's documents
        return super().encode_with_sentences(texts, spans, progress)


def main() -> None:
    index_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    settings = Settings(model="unused", index_dir=index_dir, reload_seconds=0)
    embedder = SlowEmbedder()
    app = create_app(Assistant(LocalStore.load(index_dir), embedder, settings))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
