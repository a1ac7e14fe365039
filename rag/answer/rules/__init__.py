"""The hand-written answer rules (the default answerer until the trained reader is at least as good on
questions nobody tuned on; see the README, "The reader")."""
