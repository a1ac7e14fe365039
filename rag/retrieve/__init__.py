"""Stage 3, retrieval: dense, lexical and hybrid search over a store."""
