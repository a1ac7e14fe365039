"""Stage 4, the answer: the trained span reader (windows -> model -> decoding -> calibration) that
turns a question and its passages into a verbatim span, its sentence and a score, or no answer."""
