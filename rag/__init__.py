"""An offline question-answering assistant over your own documents, with verbatim citations.

    from rag import Assistant, build_index, Settings
    build_index(["seeds"])
    result = Assistant.load("index").ask("Where will Trump and Putin meet?")
    print(result.to_dict())
"""

from .assistant import Assistant
from .errors import UserError
from .index.build import BuildReport, build_index
from .records import Answer, Chunk, Document, Passage, Result
from .settings import Settings

__all__ = ["Assistant", "build_index", "BuildReport", "Settings", "UserError", "Answer", "Chunk", "Document",
           "Passage", "Result"]
__version__ = "0.1.0"
