"""The web UI and JSON API: a thin shell over ``rag.assistant.Assistant``."""
