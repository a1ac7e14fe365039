"""Measuring the pipeline: the project's question sets (sets), BEIR datasets (beir), SQuAD-format files
(squad), and the answer metrics they share (metrics)."""
