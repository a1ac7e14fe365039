import json

import pytest

from rag.ingest.documents import html_to_text, load_documents
from rag.errors import UserError

from tests.conftest import SEEDS


def test_seed_articles_keep_id_title_source_and_exact_text():
    docs = load_documents([SEEDS])
    assert [d.doc_id for d in docs] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    for doc in docs:
        raw = (SEEDS / f"{doc.doc_id}.txt").read_bytes().decode("utf-8")
        assert doc.text == raw
        assert doc.title == next(line.strip() for line in raw.splitlines() if line.strip())
        assert doc.source.endswith(f"{doc.doc_id}.txt")


def test_folder_of_txt_md_html_and_bad_file_warns_once(tmp_path):
    (tmp_path / "a.txt").write_text("\n\nFirst line title\nBody text.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Heading\n\nSome *markdown*.", encoding="utf-8")
    (tmp_path / "c.html").write_text(
        "<html><head><title>Page</title><style>p{}</style><script>var x=1;</script></head>"
        "<body><p>Visible &amp; kept</p><script>hidden()</script></body></html>", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa not utf-8 \x80")
    (tmp_path / "ignored.odt").write_bytes(b"PK\x03\x04")  # not a supported format
    warnings: list[str] = []
    docs = {d.doc_id: d for d in load_documents([tmp_path], warn=warnings.append)}
    assert set(docs) == {"a", "b", "c"}
    assert docs["a"].title == "First line title"
    assert docs["b"].title == "Heading"
    assert docs["c"].title == "Page"
    assert docs["c"].text == "Visible & kept"
    assert len(warnings) == 1 and "bad.txt" in warnings[0]


def test_corpus_jsonl_uses_underscore_id_and_skips_bad_lines(tmp_path):
    rows = [{"_id": "d1", "title": "T1", "text": "Alpha beta."}, {"_id": "d2", "title": "", "text": "Gamma."}]
    lines = [json.dumps(r) for r in rows] + ["{not json", json.dumps({"title": "no id"})]
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    warnings: list[str] = []
    docs = load_documents([tmp_path / "corpus.jsonl"], warn=warnings.append)
    assert [(d.doc_id, d.title, d.text) for d in docs] == [("d1", "T1", "Alpha beta."), ("d2", "Gamma.", "Gamma.")]
    assert len(warnings) == 2


def test_missing_path_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_documents([tmp_path / "nope"])


def test_html_visible_text_drops_scripts_but_keeps_escaped_markup_as_text():
    title, text = html_to_text("<p>a &lt;script&gt; tag</p><noscript>x</noscript><div>b</div>")
    assert text == "a <script> tag\nb"
    assert title == ""


def test_nul_heavy_file_is_binary_and_skipped_with_a_warning(tmp_path):
    (tmp_path / "zeros.txt").write_bytes(b"\0" * 100_000)
    (tmp_path / "page.html").write_bytes(b"<p>text</p>" + b"\0" * 10)
    (tmp_path / "ok.txt").write_text("Plain text.", encoding="utf-8")
    warnings: list[str] = []
    unreadable: list = []
    docs = load_documents([tmp_path], warn=warnings.append, unreadable=unreadable)
    assert [d.doc_id for d in docs] == ["ok"]
    assert sorted(w.split(":")[0] for w in warnings) == sorted(f"skipped {tmp_path / n}" for n in ("zeros.txt", "page.html"))
    assert all("binary" in w for w in warnings)
    assert sorted(p.name for p in unreadable) == ["page.html", "zeros.txt"]


def test_corpus_records_without_text_or_with_a_null_id_are_skipped_with_a_warning(tmp_path):
    rows = [{"_id": "good", "text": "Some text."}, {"_id": "no-text", "title": "T"}, {"_id": None, "text": "x"},
            {"text": "no id"}, {"_id": "", "text": "empty id"}, {"_id": ["a"], "text": "list id"},
            {"_id": "null-text", "text": None}, [1, 2], {"_id": 7, "text": "numeric ids are BEIR's too"}]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    warnings: list[str] = []
    docs = load_documents([path], warn=warnings.append)
    assert [d.doc_id for d in docs] == ["good", "7"]
    assert "None" not in {d.doc_id for d in docs}
    assert len(warnings) == 7 and all(w.startswith(f"skipped {path}:") for w in warnings)
    assert any("no-text" in w and "no text" in w for w in warnings)
