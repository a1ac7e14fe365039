"""Training the span reader on open extractive QA data (SQuAD 2.0 format)."""
