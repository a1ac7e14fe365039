"""`rag bench`: what indexing and a question cost (run), PDF throughput (pdf), and how the dense index
scales (scale)."""
