import re

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.ingest.chunking import chunk_document, chunk_spans
from rag.ingest.documents import load_documents
from rag.records import Document
from rag.ingest.sentences import sentence_spans

from tests.conftest import SEEDS

WORDY = st.text(alphabet=st.sampled_from(list("abcde XYZ.!?,\n\t’—é1")), max_size=3000)


def _boundary_ok(text: str, start: int, end: int) -> bool:
    before = start == 0 or text[start - 1].isspace()
    after = end == len(text) or text[end].isspace()
    return before and after


@settings(max_examples=300, deadline=None)
@given(text=WORDY, size=st.integers(20, 400), overlap_frac=st.floats(0, 0.9))
def test_chunks_are_exact_slices_on_word_boundaries_and_cover_the_text(text, size, overlap_frac):
    overlap = int(size * overlap_frac)
    doc = Document("d", "t", "s", text)
    chunks = chunk_document(doc, size, overlap)
    covered = [False] * len(text)
    for c in chunks:
        assert c.text == text[c.start:c.end]
        assert c.text == c.text.strip() and c.text
        assert _boundary_ok(text, c.start, c.end)
        longest_word = max(len(w) for w in c.text.split())
        assert c.end - c.start <= size or longest_word > size
        for i in range(c.start, c.end):
            covered[i] = True
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts)), "chunks move strictly forward"
    assert [c.chunk_id for c in chunks] == [f"d#{n}" for n in range(len(chunks))]


@settings(max_examples=300, deadline=None)
@given(text=WORDY)
def test_sentences_partition_the_non_space_text(text):
    spans = sentence_spans(text)
    pos = 0
    for s, e in spans:
        assert pos <= s < e
        assert text[s:e] == text[s:e].strip()
        assert text[pos:s].strip() == ""
        pos = e
    assert text[pos:].strip() == ""


def test_sentence_rules_keep_abbreviations_together():
    text = "U.S. President Donald Trump met Mr. Putin. They spoke at 3 p.m. local time! Did it work? Yes."
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["U.S. President Donald Trump met Mr. Putin.", "They spoke at 3 p.m. local time!",
                   "Did it work?", "Yes."]


def test_overlap_repeats_trailing_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    spans = chunk_spans(text, size=200, overlap=60)
    assert len(spans) > 3
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert s2 < e1, "consecutive chunks overlap"
        assert e1 - s2 <= 60


def test_seed_chunks_are_sentence_aligned():
    for doc in load_documents([SEEDS]):
        for c in chunk_document(doc):
            assert c.text == doc.text[c.start:c.end]
            assert re.search(r"[.!?”’\w)]$", c.text)


def test_a_sentence_wrapped_across_lines_is_one_sentence():
    # A hard-wrapped or PDF line break inside a sentence: the next line starts lowercase.
    text = ("Tail latency matters at\nthe 99.9th percentile of the distribution. Next sentence.\n"
            "A Headline\nThe body starts here.\n\nlowercase after a blank line.")
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["Tail latency matters at\nthe 99.9th percentile of the distribution.", "Next sentence.",
                   "A Headline", "The body starts here.", "lowercase after a blank line."]
