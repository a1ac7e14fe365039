"""The API's response models (web/app.py) against ``Result.to_dict`` (rag/records.py), the one source
of the contract: every dict that to_dict makes validates with extra fields forbidden, and the field
sets are equal at every level, so neither can gain or lose a field alone."""

from __future__ import annotations

import types
import typing

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from rag.records import Answer, Chunk, Passage, Result
from web.app import AnswerOut, AskResponse, PassageOut, SentenceOut

TEXT = "Trump and Putin will meet in Anchorage, Alaska, on Friday.\fZelenskyy will not attend."
PAGES = ((0, TEXT.index("\f")), (TEXT.index("\f") + 1, len(TEXT)))


def _span(needle: str) -> tuple[int, int]:
    start = TEXT.index(needle)
    return start, start + len(needle)


def _result(answer: bool = True, pages: bool = True, alternatives: int = 1) -> Result:
    """A result as the assistant makes it: passages from chunks, answers as document offsets."""
    chunk = Chunk("summit", "summit#0", 0, len(TEXT), TEXT)
    passage = Passage(chunk, 1, 0.8, "Summit", "/corpus/summit.pdf", page=1 if pages else None,
                      doc_pages=PAGES if pages else ())
    found = Answer("Anchorage, Alaska", "summit", *_span("Anchorage, Alaska"), 0.9, *PAGES[0])
    others = [Answer("Friday", "summit", *_span("Friday"), 0.4, *PAGES[0])] * alternatives
    return Result("Where will they meet?", found if answer else None, others if answer else [], [passage],
                  {"total": 0.01})


def _fields(model: type[BaseModel], data: object, where: str) -> list[str]:
    """Where the model's fields and the dict's keys differ, recursing into nested models."""
    if data is None or not isinstance(data, dict):
        return []
    problems = []
    if set(model.model_fields) != set(data):
        problems.append(f"{where}: model {sorted(model.model_fields)} vs to_dict {sorted(data)}")
    for name, field in model.model_fields.items():
        nested = _model_in(field.annotation)
        if nested is None or name not in data:
            continue
        value = data[name]
        places = [(f"{where}.{name}[{i}]", v) for i, v in enumerate(value)] if isinstance(value, list) \
            else [(f"{where}.{name}", value)]
        for place, v in places:
            problems += _fields(nested, v, place)
    return problems


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The model inside ``X``, ``X | None`` or ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def test_every_response_model_forbids_extra_fields():
    for model in (AskResponse, AnswerOut, PassageOut, SentenceOut):
        assert model.model_config.get("extra") == "forbid", model.__name__


def test_to_dict_validates_and_has_exactly_the_models_fields():
    for result in (_result(), _result(pages=False), _result(answer=False)):
        data = result.to_dict()
        AskResponse.model_validate(data)
        assert _fields(AskResponse, data, "response") == []
    # The page is filled in from the passage's page ranges: the answer on page 1 says so.
    assert _result().to_dict()["answer"]["page"] == 1


@given(answer=st.booleans(), pages=st.booleans(), alternatives=st.integers(0, 3))
def test_any_result_shape_fits_the_schema(answer, pages, alternatives):
    data = _result(answer, pages, alternatives).to_dict()
    assert AskResponse.model_validate(data).model_dump() == data
    assert _fields(AskResponse, data, "response") == []


def test_a_real_answer_from_a_pdf_fits_the_schema(tmp_path, hash_embedder):
    # Built, retrieved and answered by the real code (the hash embedder stands in for the model, a tiny
    # untrained reader that always answers for the shipped one).
    from rag.answer.reader import Reader
    from rag.assistant import Assistant
    from rag.bench.pdf import write_text_pdf
    from rag.index.build import build_index
    from rag.index.store import open_store
    from rag.settings import Settings

    (tmp_path / "corpus").mkdir()
    write_text_pdf(tmp_path / "corpus" / "summit.pdf", [["Zelenskyy will not attend the talks in Alaska."],
                                                        ["Trump and Putin will meet in Anchorage on Friday."]])
    settings = Settings(model="unused", index_dir=tmp_path / "index")
    build_index([tmp_path / "corpus"], settings, embedder=hash_embedder, progress=False)
    from tests.reader_fixtures import tiny_base, tiny_reader

    base = tiny_base(tmp_path / "base")
    tiny_reader(tmp_path / "reader", base)
    reader = Reader(tmp_path / "reader", base, threshold=0.0)
    assistant = Assistant(open_store(settings.index_dir), hash_embedder, settings, reader)
    result = assistant.ask("Where will Trump and Putin meet?", k=2)
    data = result.to_dict()
    assert data["answer"] is not None
    doc = assistant.document(data["answer"]["doc_id"])
    assert data["answer"]["page"] == doc.page_at(data["answer"]["start"]) and data["answer"]["page"] in (1, 2)
    AskResponse.model_validate(data)
    assert _fields(AskResponse, data, "response") == []


def test_the_checker_would_see_a_drift():
    data = _result().to_dict()
    data["answer"]["sentence"]["text"] = "extra"
    del data["passages"][0]["page"]
    problems = _fields(AskResponse, data, "response")
    assert [p.split(":")[0] for p in problems] == ["response.answer.sentence", "response.passages[0]"]
