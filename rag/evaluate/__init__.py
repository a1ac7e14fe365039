"""Measuring the pipeline: the project's question sets (sets), BEIR datasets (beir), SQuAD-format files
(squad); paired significance tests (significance), TREC files (trec, runs), setting sweeps (sweep), and
sets grown from right/wrong marks (judgments)."""
