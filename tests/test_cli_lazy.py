"""`rag ask --retriever bm25 --no-answer` needs no model: it checks the index against the model's files
and never imports torch or sentence-transformers (their import alone costs seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from rag.index.build import build_index
from rag.index.embedding import configured_dimension, model_fingerprint
from rag.settings import Settings, default_model
from tests.conftest import ROOT, SEEDS, HashEmbedder

HEAVY = ("torch", "sentence_transformers", "transformers")


class LikeTheRealModel(HashEmbedder):
    """Hash vectors that the index records as the shipped model's (its fingerprint and width), so the
    real compatibility check passes without the model ever running."""

    dimension = configured_dimension(default_model()) or 384
    fingerprint = model_fingerprint(default_model())


def test_bm25_passages_import_no_torch(tmp_path):
    index_dir = tmp_path / "ix"
    build_index([SEEDS], Settings(index_dir=index_dir, model=default_model()), embedder=LikeTheRealModel(),
                progress=False)
    # In a fresh interpreter: this one has imported torch for other tests.
    script = textwrap.dedent(f"""
        import json, sys
        from rag.cli import main
        rc = main(["ask", "Who is the governor of Belgorod?", "--retriever", "bm25", "--no-answer", "--json",
                   "-k", "3", "--index-dir", {str(index_dir)!r}])
        print(json.dumps({{"rc": rc, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    *answer, verdict = proc.stdout.strip().splitlines()
    result, report = json.loads(answer[-1]), json.loads(verdict)
    assert report == {"rc": 0, "heavy": []}
    assert result["answer"] is None and len(result["passages"]) == 3
