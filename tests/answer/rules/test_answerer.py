"""The extractive answerer: short verbatim spans by question type, offsets, the threshold,
alternatives and bad questions. Unit tests use hand-made passages; one slow test uses the seeds."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from rag.answer.rules.spans import fixed_candidates
from rag.answer.rules.text import analyse, is_verbish, tokens
from rag.answer.rules.answerer import MISSING_NAME, RuleAnswerer
from rag.records import Chunk, Passage
from rag.ingest.sentences import sentence_spans
from rag.settings import Settings


def _passages(*docs: tuple[str, str]) -> tuple[list[Passage], dict[str, str]]:
    """One passage per (doc_id, text); each chunk sits at offset 7 inside a document whose first
    seven characters are a header, so chunk and document offsets differ."""
    passages, texts = [], {}
    for rank, (doc_id, text) in enumerate(docs, 1):
        doc_text = "Header\n" + text
        texts[doc_id] = doc_text
        chunk = Chunk(doc_id=doc_id, chunk_id=f"{doc_id}#0", start=7, end=7 + len(text), text=text)
        passages.append(Passage(chunk=chunk, rank=rank, score=1.0 / rank, title=doc_id, source=doc_id))
    return passages, texts


@pytest.fixture
def answerer() -> RuleAnswerer:
    return RuleAnswerer(Settings(), None)


def _check(answer, texts: dict[str, str]) -> None:
    doc = texts[answer.doc_id]
    assert doc[answer.start:answer.end] == answer.text
    assert answer.sentence_start <= answer.start < answer.end <= answer.sentence_end
    assert 0.0 <= answer.score <= 1.0


def test_how_many_gets_the_number_with_its_unit(answerer):
    passages, texts = _passages(("a", "Kyiv was quiet on Monday. On Friday morning, the air force reported that "
                                      "Russia launched two ballistic missiles and 97 drones overnight."))
    answer, _ = answerer.answer("How many drones did Russia launch overnight?", passages)
    assert answer is not None
    assert answer.text == "97 drones"
    _check(answer, texts)


def test_how_many_of_gets_the_bare_count(answerer):
    passages, texts = _passages(("a", "Russia launched 97 drones. Ukraine's defenses shot down 63 of the drones, "
                                      "while Russia claimed it destroyed 53 Ukrainian drones."))
    answer, _ = answerer.answer("How many of the 97 drones did Ukraine's defenses shoot down?", passages)
    assert answer is not None and answer.text == "63"


def test_who_gets_the_name_without_the_question_words(answerer):
    passages, texts = _passages(("a", "In Belgorod, a man suffered serious injuries from falling drone debris, "
                                      "according to regional governor Vyacheslav Gladkov."))
    answer, _ = answerer.answer("Who is the governor of Belgorod?", passages)
    assert answer is not None
    assert answer.text == "Vyacheslav Gladkov"
    _check(answer, texts)


def test_when_gets_the_day(answerer):
    passages, texts = _passages(("a", "The minister said the talks would go ahead. Officials confirmed the "
                                      "meeting on Monday but declined to give details."))
    answer, _ = answerer.answer("On what day did officials confirm the meeting?", passages)
    assert answer is not None and answer.text == "Monday"


def test_where_gets_the_places(answerer):
    passages, texts = _passages(("a", "Sirens sounded after midnight. The missiles were fired at Kharkiv and "
                                      "Chernihiv, officials said."))
    answer, _ = answerer.answer("Where were the missiles fired?", passages)
    assert answer is not None and answer.text == "Kharkiv and Chernihiv"
    _check(answer, texts)


def test_a_question_the_passages_do_not_answer_gets_none(answerer):
    passages, _ = _passages(("a", "Russia launched two ballistic missiles and 97 drones overnight."),
                            ("b", "The drones hit areas in four regions."))
    assert answerer.answer("What is the capital of Australia?", passages) == (None, [])


def test_the_threshold_decides(answerer):
    passages, _ = _passages(("a", "Russia launched two ballistic missiles and 97 drones overnight."))
    ranked = answerer.rank("How many drones did Russia launch?", passages)
    assert ranked
    best = ranked[0].score
    assert RuleAnswerer(Settings(answer_threshold=best + 1e-6)).answer("How many drones did Russia launch?",
                                                                    passages)[0] is None
    above = RuleAnswerer(Settings(answer_threshold=best)).answer("How many drones did Russia launch?", passages)[0]
    assert above is not None and above.score == best


def test_alternatives_are_distinct_answers_from_other_documents(answerer):
    passages, texts = _passages(
        ("a", "Overnight, Ukraine's air force shot down 63 drones over the east."),
        ("b", "On Wednesday, Russian authorities said they shot down 45 drones over the border."),
        ("c", "The air force shot down 12 drones near the capital, officials said."),
    )
    answer, alternatives = answerer.answer("How many drones were shot down?", passages)
    assert answer is not None and alternatives
    assert len(alternatives) <= 3
    texts_seen = [answer.text] + [a.text for a in alternatives]
    assert len(set(texts_seen)) == len(texts_seen)
    for a in [answer, *alternatives]:
        _check(a, texts)
    spans = [(a.doc_id, a.start, a.end) for a in [answer, *alternatives]]
    for i, (d1, s1, e1) in enumerate(spans):
        for d2, s2, e2 in spans[i + 1:]:
            assert d1 != d2 or e1 <= s2 or e2 <= s1
    assert all(a.score <= answer.score for a in alternatives)


@pytest.mark.parametrize("question", ["???", "the", "Что сказал Путин о саммите?", "¿Dónde está la cumbre?",
                                      " ".join(["drones"] * 200), "how many how many how many", "42", "!"])
def test_bad_questions_get_a_clean_none_or_a_normal_answer(answerer, question):
    passages, texts = _passages(("a", "Russia launched 97 drones overnight. The drones hit areas in Kharkiv."))
    answer, alternatives = answerer.answer(question, passages)
    if answer is not None:
        _check(answer, texts)
    for a in alternatives:
        _check(a, texts)


def test_one_word_repeated_is_no_question(answerer):
    passages, _ = _passages(("a", "Russia launched 97 drones overnight. The drones hit areas in Kharkiv."))
    assert answerer.answer(" ".join(["drones"] * 200), passages) == (None, [])


def test_no_passages_no_answer(answerer):
    assert answerer.answer("Who is the governor of Belgorod?", []) == (None, [])


def test_question_types():
    assert analyse("How many drones did Russia launch?").expect == "num"
    assert analyse("How many drones did Russia launch?").unit == "drone"
    assert analyse("Who is the governor of Kharkiv?").role == "governor"
    assert analyse("Which German chancellor did Zelenskyy meet?").expect == "who"
    assert analyse("On which day did he speak?").expect == "when"
    assert analyse("Within what time frame will it end?").expect == "duration"
    assert analyse("Where did it land?").expect == "where"
    assert analyse("Why did it happen?").expect == "why"


def _with_cosines(passage: Passage, cosines: list[float]) -> Passage:
    """The passage with ``sentences=`` as the retriever fills it: the chunk's sentences in document
    offsets, one cosine each."""
    c = passage.chunk
    spans = sentence_spans(c.text)
    assert len(spans) == len(cosines)
    sentences = tuple((c.start + s, c.start + e, cos) for (s, e), cos in zip(spans, cosines))
    return Passage(chunk=c, rank=passage.rank, score=passage.score, title=passage.title, source=passage.source,
                   sentences=sentences)


# The first sentence shares the question's words; the second answers it in other words.
_PARAPHRASE = ("Officials said the talks on the new deal were due on Monday. "
               "The agreement was finally signed by envoy Anna Berg on Thursday.")
_PARAPHRASE_Q = "On which day were the talks on the new deal held?"


def test_sentence_cosine_picks_a_paraphrase_over_word_overlap():
    answerer = RuleAnswerer(Settings(answer_threshold=0.0))  # the choice of sentence, not the null decision
    passages, texts = _passages(("a", _PARAPHRASE))
    lexical, _ = answerer.answer(_PARAPHRASE_Q, passages)
    assert lexical is not None and lexical.text == "Monday"  # word overlap alone
    answer, _ = answerer.answer(_PARAPHRASE_Q, [_with_cosines(passages[0], [0.05, 0.95])])
    assert answer is not None and answer.text == "Thursday"
    _check(answer, texts)


def test_sentence_cosine_agreeing_with_the_words_keeps_their_sentence():
    answerer = RuleAnswerer(Settings(answer_threshold=0.0))
    passages, _ = _passages(("a", _PARAPHRASE))
    answer, _ = answerer.answer(_PARAPHRASE_Q, [_with_cosines(passages[0], [0.8, 0.3])])
    assert answer is not None and answer.text == "Monday"


def test_sentence_scores_carry_the_cosine_and_fall_back_without_it(answerer):
    passages, _ = _passages(("a", _PARAPHRASE))
    q = analyse(_PARAPHRASE_Q)
    stems = list(dict.fromkeys(q.stems))
    plain = answerer.score_sentences(q, stems, passages)
    assert [s.cos for s in plain] == [None, None]
    assert [s.score for s in plain] == [s.lex for s in plain]  # rank 1: no discount
    with_cos = answerer.score_sentences(q, stems, [_with_cosines(passages[0], [0.1, 0.9])])
    assert [s.cos for s in with_cos] == [0.1, 0.9]
    assert with_cos[1].score > with_cos[0].score


def test_a_question_name_missing_from_the_passage_lowers_the_confidence():
    answerer = RuleAnswerer(Settings(answer_threshold=0.0))
    passages, _ = _passages(("a", "Russia launched 97 drones at Kyiv overnight, the air force said."))
    for place, lowered in (("Kyiv", False), ("Odesa", True)):
        question = f"How many drones did Russia launch at {place}?"
        span_score = answerer.rank(question, passages)[0].score
        answer, _ = answerer.answer(question, passages)
        assert answer is not None and answer.text == "97 drones"
        assert (answer.score < span_score) == lowered, place


def test_a_name_no_passage_mentions_lowers_more_than_one_another_passage_mentions():
    answerer = RuleAnswerer(Settings(answer_threshold=0.0))
    passages, _ = _passages(("a", "Russia launched 97 drones at Kyiv overnight, the air force said."),
                            ("b", "Odesa was quiet, officials in the port city said."))
    alone, _ = _passages(("a", "Russia launched 97 drones at Kyiv overnight, the air force said."))
    in_other, _ = answerer.answer("How many drones did Russia launch at Odesa?", passages)
    in_none, _ = answerer.answer("How many drones did Russia launch at Lutsk?", alone)
    assert in_other is not None and in_none is not None
    assert in_none.score < in_other.score


def test_a_demonym_missing_everywhere_is_not_held_against_the_answer():
    answerer = RuleAnswerer(Settings(answer_threshold=0.0))
    passages, _ = _passages(("a", "Warsaw said its border lies just 90 kilometers from Lviv."))
    question = "How close is Lviv to the Polish frontier?"
    span_score = answerer.rank(question, passages)[0].score
    polish, _ = answerer.answer(question, passages)
    assert polish is not None and "90 kilometers" in polish.text
    # Only the passage-level discount for a name the passage lacks, not the stronger absent-everywhere one.
    assert polish.score == pytest.approx(span_score * MISSING_NAME)


def test_a_word_after_a_modal_is_a_verb_not_an_answer(answerer):
    passages, _ = _passages(("a", "He insists that no deal should happen without strong security guarantees."))
    answer, _ = answerer.answer("What does he insist any deal must come with?", passages)
    assert answer is not None and answer.text == "strong security guarantees"


def test_a_role_with_another_modifier_does_not_answer_who():
    answerer = RuleAnswerer(Settings(answer_threshold=0.0))
    passages, _ = _passages(("a", "Foreign Minister Sergei Lavrov spoke by phone with his counterpart on Tuesday."))
    foreign, _ = answerer.answer("Who is the foreign minister?", passages)
    defence, _ = answerer.answer("Who is the defence minister?", passages)
    assert foreign is not None and foreign.text == "Sergei Lavrov"
    assert defence is None or defence.score < foreign.score


def test_what_time_prefers_a_time_of_day_over_a_weekday(answerer):
    passages, _ = _passages(("a", "The plane landed on Friday shortly after midnight, officials said."))
    answer, _ = answerer.answer("What time did the plane land?", passages)
    assert answer is not None and "midnight" in answer.text
    assert analyse("What time did the plane land?").expect == "clock"


_WORDS = st.sampled_from("Russia Ukraine drones launched 97 two missiles on Friday the governor said Kyiv "
                         "and of in 3,000 people U.S. President Vladimir Putin “critical” , . ? ’s — "
                         "regions Monday at least six".split())


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(_WORDS, min_size=1, max_size=40), question=st.lists(_WORDS, min_size=1, max_size=10),
       qw=st.sampled_from(["How many", "Who", "When", "Where", "What", "Which", "Why", "How"]))
def test_every_candidate_is_a_verbatim_span_inside_its_sentence(answerer, body, question, qw):
    text = " ".join(body)
    passages, texts = _passages(("a", text), ("b", text.upper()))
    for a in answerer.rank(f"{qw} {' '.join(question)}?", passages):
        _check(a, texts)
    answer, alternatives = answerer.answer(f"{qw} {' '.join(question)}?", passages)
    if answer is None:
        assert alternatives == []
    else:
        assert all(a.score >= answerer.threshold for a in [answer, *alternatives])


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(_WORDS, min_size=1, max_size=40), question=st.lists(_WORDS, min_size=1, max_size=10),
       cosines=st.lists(st.floats(-1.0, 1.0), min_size=40, max_size=40))
def test_any_cosines_keep_answers_verbatim_and_scores_in_range(answerer, body, question, cosines):
    text = " ".join(body)
    passages, texts = _passages(("a", text))
    n = len(sentence_spans(passages[0].chunk.text))
    passages = [_with_cosines(passages[0], cosines[:n])]
    answer, alternatives = answerer.answer(f"What {' '.join(question)}?", passages)
    for a in ([answer] if answer else []) + alternatives:
        _check(a, texts)
        assert a.score >= answerer.threshold


@pytest.mark.slow
def test_seeds_end_to_end(assistant):
    cases = {
        "Who is the governor of Belgorod?": "Vyacheslav Gladkov",
        "How many drones did Russia launch at Ukraine overnight into Wednesday?": "49 drones",
        "Which German chancellor did Zelenskyy meet in Berlin?": "Friedrich Merz",
    }
    for question, expected in cases.items():
        result = assistant.ask(question)
        assert result.answer is not None, question
        assert result.answer.text == expected
        doc = assistant.document(result.answer.doc_id)
        assert doc.text[result.answer.start:result.answer.end] == result.answer.text
        sentence = doc.text[result.answer.sentence_start:result.answer.sentence_end]
        assert expected in sentence
        assert result.to_dict()["answer"]["sentence"] == {"start": result.answer.sentence_start,
                                                          "end": result.answer.sentence_end}
    assert assistant.ask("What is the capital of Australia?").answer is None


@pytest.mark.slow
@pytest.mark.eval
def test_eval_set_answers_hold_the_measured_level(assistant):
    """The issue's bars over the whole eval set (hybrid, the default): EM and F1 (measured 0.879 and
    0.899, held at 0.80), sentence accuracy >= 0.95 (measured 0.953), at most 5% of answerable
    questions null, and every unanswerable one null."""
    from rag.evaluate.sets import answer_metrics, evidence_spans, load_eval_set

    from tests.conftest import ROOT

    questions = load_eval_set(ROOT / "eval" / "questions.jsonl")
    results = [assistant.ask(q.question) for q in questions]
    spans = {q.id: evidence_spans(assistant.document(q.doc_id).text, q.evidence) for q in questions if q.answerable}
    m = answer_metrics(questions, results, spans)
    answerable = [r for q, r in zip(questions, results) if q.answerable]
    assert m["exact_match"] >= 0.80 and m["f1"] >= 0.80, m
    assert m["sentence_accuracy"] >= 0.95, m
    assert sum(r.answer is None for r in answerable) <= 0.05 * len(answerable), m
    assert m["abstention_recall"] == 1.0, m


@pytest.mark.slow
@pytest.mark.eval
def test_development_sets_hold_their_level(assistant):
    """A guard against regressions on the four held-out development sets (188 questions, 36 of them
    unanswerable), pooled: measured EM 0.658, answer-sentence accuracy 0.796 and 23 of 36 unanswerable
    questions null. It says nothing about unseen questions: the README's test set does."""
    from rag.evaluate.sets import answer_metrics, evidence_spans, load_eval_set

    from tests.conftest import ROOT

    questions = [q for n in ("", "2", "3", "4") for q in load_eval_set(ROOT / "eval" / f"holdout{n}.jsonl")]
    results = list(assistant.ask_many([q.question for q in questions]))
    spans = {q.id: evidence_spans(assistant.document(q.doc_id).text, q.evidence) for q in questions if q.answerable}
    m = answer_metrics(questions, results, spans)
    unanswered = sum(r.answer is None for q, r in zip(questions, results) if not q.answerable)
    assert m["exact_match"] >= 0.63 and m["sentence_accuracy"] >= 0.77 and unanswered >= 21, (m, unanswered)


# -- fourth round: roles, clauses and idioms -----------------------------------------------------

def _best(answerer: RuleAnswerer, question: str, text: str) -> str | None:
    passages, texts = _passages(("a", text))
    answer, _ = answerer.answer(question, passages)
    if answer is not None:
        _check(answer, texts)
    return None if answer is None else answer.text


def test_an_idiom_after_in_is_no_place():
    from rag.answer.rules.spans import fixed_candidates
    from rag.answer.rules.text import tokens
    toks = tokens("The army, in reply, struck depots in northern Moldova and in a school yard.")
    kinds = {" ".join(t.text for t in toks[c.i:c.j]): c.kind for c in fixed_candidates(toks)}
    assert kinds["reply"] == "np"  # "in reply" is an idiom
    assert kinds["school yard"] == "place_np"  # "in a school yard" is a place
    assert kinds["northern Moldova"] == "place_np"


def test_the_heading_of_a_bullet_is_no_answer(answerer):
    text = "• European Pressure: Austria and other European nations are pressing for a ceasefire."
    passages, _ = _passages(("a", text))
    ranked = answerer.rank("Which European country is pressing for a ceasefire?", passages)
    assert ranked[0].text == "Austria"


# Short answers that one rule each decides.
@pytest.mark.parametrize("question, text, expected", [
    # The subject "three workers" stands before every verb the question repeats; "grain" after "hauling".
    pytest.param("What was the lorry in Tula hauling when shells landed near it?",
                 "In Tula, three workers were hurt when shells landed near a lorry hauling grain, the mayor said.",
                 "grain", id="an_object_question_prefers_what_follows_its_verb"),
    pytest.param("Why did Kyiv say it struck the bridge?",
                 "Kyiv said the bridge was being used by the army to move tanks and heavy guns to the southern front.",
                 "to move tanks and heavy guns to the southern front", id="why_gets_the_whole_purpose_clause"),
    pytest.param("What common view did both leaders say they share?",
                 "Both leaders said they share a firm and common view that the blockade must end.",
                 "the blockade must end", id="a_that_clause_after_the_focus_noun_answers_what_position"),
    pytest.param("Where did he meet the Jordanian king?",
                 "Earlier, he held talks after meeting Jordanian King Abdullah at the royal palace.",
                 "royal palace", id="a_name_after_a_title_the_question_states_is_its_subject_not_its_answer"),
    pytest.param("Where does Lukas insist the talks must be held?",
                 "Lukas insisted the talks cannot be held in Minsk but must take place in a small Alpine country.",
                 "Alpine country", id="a_negated_place_does_not_answer_where"),
    pytest.param("What does he insist any treaty must come with?",
                 "He insists that no treaty should be signed without firm border guarantees.",
                 "firm border guarantees", id="two_negations_cancel"),
    pytest.param("How long did the envoy's meeting with the minister last?",
                 "The envoy held a four-hour meeting with the minister in Oslo earlier this week.",
                 "four-hour", id="a_duration_inside_a_compound_leaves_the_noun_out"),
    pytest.param("In which region did drones set a depot on fire?",
                 "In the neighbouring Lviv region, drones set a depot on fire.",
                 "Lviv region", id="a_place_name_loses_its_leading_modifier"),
    pytest.param("How many missiles did Russia fire in its largest wave of strikes?",
                 "Russia launched its largest wave of strikes in weeks, firing hundreds of drones and dozens of "
                 "missiles.",
                 "dozens", id="a_count_takes_the_unit_before_the_next_conjunction"),
    pytest.param("Who has promised to back Ukraine in peace negotiations?",
                 "European governments have pledged support for Ukraine in any potential peace negotiations.",
                 "European governments", id="a_group_answers_who"),
    # Fifth round: from the third and fourth development sets.
    pytest.param("Who was Rubio's Russian counterpart in the phone call?",
                 "Rubio spoke by phone with Russian Foreign Minister Sergei Lavrov about the summit.",
                 "Sergei Lavrov", id="a_relation_such_as_counterpart_is_no_title_the_text_repeats"),
    pytest.param("Why does the Secretary of State consider a ceasefire critical?",
                 "The Secretary of State considers a ceasefire critical to allow deeper talks about security "
                 "and borders.",
                 "to allow deeper talks about security and borders", id="a_reason_is_its_whole_clause"),
    pytest.param("What did Trump say would be key topics in the talks?",
                 "Trump indicated that territorial divisions and power infrastructure are key topics in the "
                 "discussions.",
                 "territorial divisions and power infrastructure", id="would_be_key_topics_asks_for_the_list"),
    pytest.param("What did the attacks set on fire in the region?",
                 "In the region, the attacks set fire to another critical facility as their forces pressed forward.",
                 "critical facility", id="as_before_a_clause_is_a_conjunction_not_a_complement"),
    pytest.param("What was the size of the drone barrage overnight?",
                 "Overnight, Russia launched 49 drones and two ballistic missiles in a barrage.",
                 "49 drones", id="the_size_of_a_barrage_is_its_count_in_the_question_unit"),
    pytest.param("Which leaders does Trump say want peace?",
                 "Trump said he believes both Putin and Zelenskyy want peace.",
                 "both Putin and Zelenskyy", id="both_x_and_y_is_a_list_of_names"),
    pytest.param("In Rubio's words, who has the final say on peace?",
                 "We’ll do everything we can to help, but ultimately it’s up to Ukraine and Russia, Rubio said.",
                 "Ukraine and Russia", id="up_to_x_and_y_is_no_place_and_we_ll_no_name"),
    pytest.param("How can Russia be pushed toward negotiations?",
                 "Only by showing solidarity among global powers can Russia be pushed toward negotiations.",
                 "showing solidarity among global powers", id="a_means_ends_where_the_inverted_main_clause_begins"),
])
def test_the_short_answer(answerer, question, text, expected):
    assert _best(answerer, question, text) == expected


def test_question_sides():
    assert analyse("What was the lorry hauling when shells landed?").side == "after"
    assert analyse("What aid are Nordic leaders ready to send?").side == "after"
    assert analyse("What was destroyed in the attack?").side != "after"
    assert analyse("Who should pay for the repairs?").side == "before"
    assert analyse("What did both sides confirm?").side == "after"


def test_how_was_someone_hurt_gets_the_means_without_its_preposition(answerer):
    text = "In Tula, a woman suffered burns from a burning fuel tank, according to the mayor."
    assert _best(answerer, "How was a woman in Tula burnt?", text) == "a burning fuel tank"
    text = "In Tula, a man suffered serious injuries from falling roof tiles, according to the mayor."
    assert _best(answerer, "How was a man in Tula seriously hurt?", text) == "falling roof tiles"


def test_with_is_a_cause_only_before_a_participle():
    from rag.answer.rules.spans import candidates
    from rag.answer.rules.text import tokens
    kinds = {(c.i, c.j): c.kind for c in candidates(tokens("He accused Oslo of siding with Minsk."), set())}
    assert "cause" not in kinds.values()
    toks = tokens("With the rains approaching, the army moved north.")
    assert any(c.kind == "cause" for c in candidates(toks, set()))


def test_the_country_of_a_demonym_in_the_question_is_no_answer(answerer):
    passages, _ = _passages(("a", "The ministry said all drones were downed deep inside Russia, over Tula, Oryol, "
                                  "and Kaluga."))
    ranked = [a.text for a in answerer.rank("Over which Russian regions were the drones downed?", passages)]
    assert ranked[0] == "Tula, Oryol, and Kaluga"
    assert "Russia" not in ranked[:3]


def test_a_plural_predicate_noun_is_the_focus(answerer):
    assert analyse("What did the mayor say were the main concerns in the city?").focus == "concerns"
    text = "The mayor said that high rents and poor transport are the main concerns in the city."
    assert _best(answerer, "What did the mayor say were the main concerns in the city?", text) == \
        "high rents and poor transport"


def test_a_name_describing_the_kind_of_answer_need_not_be_in_the_passage(answerer):
    # "TV" only says what kind of answer is wanted; "Fox News" never repeats it.
    q = analyse("Which TV network did Trump tell that the Russian leader might not want a deal?")
    assert q.focus == "network" and "tv" in q.modifiers
    passages, texts = _passages(("a", "Speaking to Fox News earlier this week, Trump said the Russian leader "
                                      "might not want a deal."))
    answer, _ = answerer.answer(q.text, passages)
    assert answer is not None and answer.text == "Fox News"
    assert answer.score == pytest.approx(answerer.rank(q.text, passages)[0].score)  # no discount
    _check(answer, texts)


def test_a_place_no_passage_mentions_leaves_a_well_matched_question_unanswered(answerer):
    passages, _ = _passages(("a", "Russia launched 97 drones and two ballistic missiles at Kyiv overnight, "
                                  "the air force said on Friday morning."))
    template = "How many drones did Russia launch overnight at {} on Friday morning, according to the air force?"
    kyiv, _ = answerer.answer(template.format("Kyiv"), passages)
    assert kyiv is not None and kyiv.text == "97 drones"
    odesa, _ = answerer.answer(template.format("Odesa"), passages)
    assert odesa is None


def test_a_close_second_sentence_still_offers_its_answer(answerer):
    # The second sentence matches the question nearly as well as the first (cosine 0.5 against 0.7):
    # its place stays above the threshold as an alternative rather than being sharpened away.
    passages, texts = _passages(("a", "The leaders met for talks in the capital after a long delay. "
                                      "The meeting of the leaders took place in Geneva."))
    answer, alternatives = answerer.answer("Where did the leaders meet for talks?", [_with_cosines(passages[0], [0.7, 0.5])])
    assert answer is not None and answer.text == "capital"
    assert "Geneva" in [a.text for a in alternatives]
    for a in alternatives:
        _check(a, texts)


def test_a_verb_with_its_object_is_no_second_list_item():
    # "pressure Russia to negotiate" is a verb phrase: "a united front and pressure Russia" is no list.
    toks = [t for t in tokens("Leaders push allies to keep a united front and pressure Russia to negotiate.")]
    texts = {" ".join(t.text for t in toks[c.i:c.j]) for c in fixed_candidates(toks) if c.is_list}
    assert "united front and pressure Russia" not in texts
    toks = [t for t in tokens("Leaders sent humanitarian and military aid to Kyiv.")]
    texts = {" ".join(t.text for t in toks[c.i:c.j]) for c in fixed_candidates(toks) if c.is_list}
    assert "humanitarian and military aid" in texts


def test_a_count_of_people_answers_how_many_residents(answerer):
    passages, texts = _passages(("a", "In the region, around 3,000 people lost access to electricity after the strikes "
                                      "damaged 12 buildings, the governor said."))
    answer, _ = answerer.answer("How many residents of the region lost electricity?", passages)
    assert answer is not None and answer.text == "around 3,000 people"
    _check(answer, texts)


def test_a_quoted_word_scores_as_a_quote_though_it_is_a_noun_phrase_too():
    answerer = RuleAnswerer(Settings(answer_threshold=0.0))  # the candidate's kind, not the null decision
    passages, texts = _passages(("a", "He stressed that a ceasefire is “critical” to allow deeper talks about security."))
    question = "What word did the envoy use about the ceasefire?"
    answer, _ = answerer.answer(question, passages)
    assert answer is not None and answer.text == "critical"
    _check(answer, texts)
    # The quote's full fit, not the weaker noun-phrase one: above the score of the next candidate by far.
    ranked = answerer.rank(question, passages)
    assert ranked[0].text == "critical" and ranked[0].score >= 2 * ranked[1].score



def test_a_refusal_question_is_answered_where_the_text_says_no(answerer):
    passages, _ = _passages(("a", "Zelenskyy said a summit venue must be neutral: it cannot be Minsk, while Vienna is "
                                  "possible."))
    answer, _ = answerer.answer("Which city did Zelenskyy reject as a summit venue?", passages)
    assert answer is not None and answer.text == "Minsk"
    # Without the refusal the negated city is the wrong answer.
    answer, _ = answerer.answer("Which city did Zelenskyy accept as a summit venue?", passages)
    assert answer is not None and answer.text == "Vienna"


def test_which_day_wants_a_day_not_a_period(answerer):
    passages, _ = _passages(("a", "The envoy will arrive for the talks next week, probably on Tuesday."))
    answer, _ = answerer.answer("On which day will the envoy arrive for the talks?", passages)
    assert answer is not None and answer.text == "Tuesday"
    answer, _ = answerer.answer("When will the envoy arrive for the talks?", passages)
    assert answer is not None and answer.text == "next week"


def test_when_someone_said_he_would_act_dates_the_act_not_the_saying(answerer):
    passages, _ = _passages(("a", "Trump had on Sunday evening, told reporters that he would be speaking with Putin to "
                                  "reach a deal for a 30-day ceasefire proposal. “I will be speaking to President "
                                  "Putin on Tuesday,” Trump said."))
    answer, _ = answerer.answer("On which day did Trump say he would be speaking to Putin about the 30-day ceasefire "
                                "proposal?", passages)
    assert answer is not None and answer.text == "Tuesday"
    answer, _ = answerer.answer("On which day did Trump tell reporters about the 30-day ceasefire proposal?", passages)
    assert answer is not None and answer.text == "Sunday evening"


def test_an_organisation_is_no_place(answerer):
    passages, _ = _passages(("a", "On Friday the missiles were reported by Ukraine’s Air Force."),
                            ("b", "The missiles were fired at Kharkiv and Chernihiv."))
    answer, _ = answerer.answer("Where were the missiles fired on Friday?", passages)
    assert answer is None or "Force" not in answer.text


def test_how_is_it_framed_gets_the_quoted_words():
    q = analyse("How is the White House framing the meeting?")
    assert q.expect == "word"
    assert analyse("How is the White House preparing the meeting?").expect == "how"
    passages, _ = _passages(("a", "White House officials confirmed the full agenda of the meeting, which the "
                                  "White House is framing as a “listening exercise.”"))
    answer, _ = RuleAnswerer(Settings(), None).answer("How is the White House framing the meeting?", passages)
    assert answer is not None and answer.text == "listening exercise"


def test_a_noun_the_focus_only_modifies_is_no_instance_of_it(answerer):
    passages, _ = _passages(("a", "A large fire broke out in the facility area after the strike on the Unecha "
                                  "pump station."))
    answer, _ = answerer.answer("Which facility did the strike set on fire?", passages)
    assert answer is not None and answer.text != "area"


def test_how_does_it_rank_gets_the_place_in_the_order(answerer):
    assert analyse("How did the strike rank among this year's attacks?").expect == "rank"
    passages, _ = _passages(("a", "Russia launched its largest wave of strikes in weeks on Kyiv and Lviv. The assault, "
                                  "which marked Russia’s third-largest drone attack this year, prompted Poland to act."))
    answer, _ = answerer.answer("How did the strike on Kyiv and Lviv rank among Russia’s drone attacks this year?",
                                passages)
    assert answer is not None and answer.text == "third-largest"


def test_apart_from_x_prefers_the_sentence_that_names_x(answerer):
    assert analyse("Besides sanctions, what help will Europe give?").excluded == {"sanction"}
    passages, _ = _passages(("a", "European leaders are not only vocal in supporting Ukraine’s sovereignty but are also "
                                  "prepared to assist in mediating any potential peace talks. This includes reinforcing "
                                  "economic sanctions, sharing intelligence, and providing humanitarian and military aid."))
    passages = [_with_cosines(passages[0], [0.70, 0.71])]
    ask = "What help are European leaders ready to give Ukraine?"
    assert answerer.rank(ask, passages)[0].text == "sovereignty"
    apart = "Apart from tougher sanctions and intelligence sharing, what help are European leaders ready to give Ukraine?"
    assert answerer.rank(apart, passages)[0].text == "humanitarian and military aid"


def test_the_examples_after_including_answer_what_things(answerer):
    passages, _ = _passages(("a", "Ukraine reported drone attacks on Russian military targets in Crimea, including "
                                  "landing craft, radar systems, and air defence facilities."))
    answer, _ = answerer.answer("What Russian military assets did Ukraine’s drones attack in Crimea?", passages)
    assert answer is not None and answer.text == "landing craft, radar systems, and air defence facilities"


def test_a_sentence_opening_with_a_pronoun_is_about_the_previous_sentences_names(answerer):
    question = "Which country did Putin single out as one of the mediators helping prepare the talks with Trump?"
    text = ("Putin, meanwhile, suggested that preparations for the talks with Trump are being supported by a number "
            "of countries. {} specifically mentioned the United Arab Emirates as one of the mediating parties.")
    passages, _ = _passages(("a", text.format("He")))
    answer, _ = answerer.answer(question, passages)
    assert answer is not None and answer.text == "United Arab Emirates"
    # Someone else mentioning it is not Putin singling it out.
    assert _best(answerer, question, text.format("Analysts")) != "United Arab Emirates"


def test_a_sentence_opening_with_the_previous_noun_inherits_its_words(answerer):
    # "The missiles" are the "two ballistic missiles" of two sentences back: the sentence about them
    # answers a question that says "two ballistic missiles", though it repeats neither word.
    text = ("On Friday morning, the air force reported that Russia launched two ballistic missiles and 97 drones "
            "overnight. The drones hit areas in the Sumy and Poltava regions. The missiles were fired at Kharkiv and "
            "Chernihiv.")
    passages, texts = _passages(("a", text))
    answer, _ = answerer.answer("Where were the two ballistic missiles aimed on Friday?", passages)
    assert answer is not None and answer.text == "Kharkiv and Chernihiv"
    _check(answer, texts)
    # A fresh subject ("Rockets") refers back to nothing, so the sentence gains nothing.
    stems = ["two", "ballist", "missil", "aim", "friday"]
    a = answerer.score_sentences(analyse("Where were the two ballistic missiles aimed on Friday?"), stems, passages)
    b = answerer.score_sentences(analyse("Where were the two ballistic missiles aimed on Friday?"), stems,
                                 _passages(("a", text.replace("The missiles were", "Rockets were")))[0])
    assert a[-1].lex > b[-1].lex


def test_a_made_by_compound_names_the_maker(answerer):
    text = ("Overnight, the air force reported that Russia launched 49 drones and two North Korean-made ballistic "
            "missiles into Ukrainian territory. The missiles were fired at Kharkiv.")
    assert _best(answerer, "Which country made the two ballistic missiles Russia fired overnight?", text) \
        == "North Korean-made"


def test_what_word_is_answered_by_a_sentence_with_a_quote(answerer):
    passages, _ = _passages(("a", "Zelenskyy has repeatedly said that no agreement reached without Kyiv can work. "
                                  "Zelenskyy warned that any decisions made without Ukraine’s input will be "
                                  "“stillborn.”"))
    best = answerer.rank("What word did Zelenskyy use for any agreement reached without Kyiv?", passages)[0]
    assert best.text == "stillborn"


def test_what_happened_after_an_event_the_documents_only_preview_has_no_answer(answerer):
    question = "What agreement did Trump and Putin reach at the end of the Alaska summit?"
    preview = ("The Alaska summit, where Trump will meet Putin one-on-one, is billed by the White House as a "
               "“listening exercise.” The summit is set for Friday.")
    passages, _ = _passages(("a", preview))
    assert answerer.rank(question, passages)  # candidates exist: refusing them is the point
    assert answerer.answer(question, passages) == (None, [])
    # Once a passage reports the summit over, the same question is answered.
    report = "At the end of the Alaska summit, Trump and Putin reached an agreement on a prisoner exchange."
    passages, _ = _passages(("a", report))
    answer, _ = answerer.answer(question, passages)
    assert answer is not None and "prisoner exchange" in answer.text


@pytest.mark.parametrize("question, event", [
    ("What agreement did Trump and Putin reach at the end of the Alaska summit?", "summit"),
    ("What did Zelenskyy announce after his European meetings?", "meetings"),
    ("Who will join the call after his European meetings?", ""),  # future: nothing to be over yet
    ("What did Trump say about the summit?", ""),
])
def test_a_past_question_about_after_an_event_is_recognised(question, event):
    assert analyse(question).after_event == event


@pytest.mark.parametrize("text, over", [
    ("The summit ended without a deal.", True),
    ("After the summit, Trump flew home.", True),
    ("At the summit on Friday, the two leaders agreed to a truce.", True),
    ("The summit is set for Friday.", False),
    ("Russia struck Kyiv ahead of the summit.", False),
    ("At the summit, Trump will listen.", False),
])
def test_reports_over(text, over):
    from rag.answer.rules.text import reports_over

    assert reports_over(text, "summit") is over


def test_who_has_been_doing_asks_for_the_subject():
    assert analyse("Who has been pressing for a summit between Zelenskyy and Putin?").side == "before"
    assert analyse("Who will be attending the summit?").side == "before"
    assert analyse("What did both sides confirm their commitment to?").side == "after"


def test_the_holder_of_a_role_elsewhere_does_not_answer(answerer):
    question = "Who is the governor of the Bryansk region?"
    # The passage names Bryansk, so nothing says the question is off-topic; only the role's sentence does.
    elsewhere = ("Drones also hit the Bryansk region overnight. In the Zaporizhzhia region, regional governor Ivan "
                 "Fedorov said 3,000 people lost power.")
    assert _best(answerer, question, elsewhere) is None
    here = "In the Bryansk region, regional governor Alexander Bogomaz said 3,000 people lost power."
    assert _best(answerer, question, here) == "Alexander Bogomaz"


def test_a_hyphenated_word_made_of_question_words_is_not_new():
    from rag.answer.rules.answerer import _novelty
    from rag.answer.rules.spans import Cand

    toks = tokens("Trump has been pushing for a Zelenskyy-Putin summit.")
    q = analyse("Who has been pushing for a summit between Zelenskyy and Putin?")
    qwords = q.words | set(q.stems)
    at = next(k for k, t in enumerate(toks) if t.text == "Zelenskyy-Putin")
    assert _novelty(toks, Cand(at, at + 1, "name"), qwords, "") == 0.0
    assert _novelty(toks, Cand(0, 1, "name"), qwords, "") == 1.0


def test_a_means_clause_runs_through_its_list(answerer):
    text = ("Ukraine is strengthening partnerships and keeping up the pressure through virtual briefings, European "
            "visits, and public diplomacy.")
    best = answerer.rank("How is Ukraine keeping up the pressure?", _passages(("a", text))[0])[0]
    assert best.text.endswith("virtual briefings, European visits, and public diplomacy")


def test_an_abstract_noun_comes_with_its_complement(answerer):
    text = "Trump has expressed frustration with Putin’s unwillingness to engage in negotiations."
    assert _best(answerer, "What has Trump expressed frustration with?", text) \
        == "Putin’s unwillingness to engage in negotiations"


def test_a_count_without_the_questions_verb_is_less_sure(answerer):
    question = "How many people were killed in the strike on the railway hub?"
    left = answerer.rank(question, _passages(("a", "After the strike on the railway hub, 12 people were left "
                                                   "without power."))[0])[0]
    killed = answerer.rank(question, _passages(("a", "After the strike on the railway hub, 12 people were "
                                                     "killed."))[0])[0]
    # Missing one question word alone costs about a third (0.68 of the score); a count without the
    # question's verb costs more.
    assert left.text == killed.text == "12 people" and left.score < 0.6 * killed.score


def test_a_name_that_only_modifies_a_noun_is_a_weak_who(answerer):
    text = "Zelenskyy said he is ready to meet, though he questioned the Kremlin leader’s willingness."
    assert answerer.rank("Who questioned the willingness to meet?", _passages(("a", text))[0])[0].text != "Kremlin"
    # Unless the noun is the question's own: "which front lines?" -> "the Donbas front lines".
    text = "Moscow said the station was used to move weapons to the Donbas front lines."
    assert _best(answerer, "To which front lines were weapons moved through the station?", text) == "Donbas"


def test_which_country_wants_a_country(answerer):
    text = ("Zelenskyy said any summit must be held in a neutral European country, though he questioned the "
            "Kremlin’s willingness.")
    assert _best(answerer, "Which European country did Zelenskyy propose as the venue?", text) is None
    text = "Putin named the United Arab Emirates as a mediator at the Kremlin."
    assert _best(answerer, "Which country did Putin name as a mediator?", text) == "United Arab Emirates"


@pytest.mark.parametrize("question, expect", [
    ("What number of drones did Ukraine bring down?", "num"),
    ("What percentage of the territory does Russia hold?", "num"),
    ("At what point did the air force publish its tally?", "when"),
    ("What point did he make about the talks?", "np"),
])
def test_the_focus_noun_sets_the_answer_type(question, expect):
    assert analyse(question).expect == expect


def _first(answerer: RuleAnswerer, question: str, text: str):
    """The best-ranked candidate, threshold or not."""
    return answerer.rank(question, _passages(("a", text))[0])[0]


@pytest.mark.parametrize("question, text, expected", [
    # "which city" wants a proper name, not "the school courtyard".
    ("In which city did wreckage from a shot-down drone come down in a schoolyard just as classes were starting?",
     "In Kyiv, authorities reported that debris from a downed Russian drone landed in a school courtyard just as "
     "classes were starting.", "Kyiv"),
    # "which official" only says what kind of answer is wanted; the sentence says "Vice President".
    ("Which American official reiterated that Europe must carry the lion's share?",
     "U.S. Vice President JD Vance echoed Washington’s position that Europe must shoulder the “lion’s share” of any "
     "security guarantees.", "JD Vance"),
])
def test_the_focus_noun_says_what_kind_of_answer(answerer, question, text, expected):
    assert _first(answerer, question, text).text == expected


def test_a_title_alone_names_nobody(answerer):
    text = "Talks have been underway between Secretary of State Marco Rubio and Russian Foreign Minister Sergei Lavrov."
    ranked = answerer.rank("Which official has been holding talks with the Russian side?", _passages(("a", text))[0])
    assert ranked[0].text == "Marco Rubio" and "Secretary" not in [a.text for a in ranked[:3]]


def test_a_minister_of_another_country_is_not_the_one_asked_for(answerer):
    question = "Who is Ukraine’s foreign minister?"
    text = "Ukraine’s partners met as {} Foreign Minister {} spoke by phone on Tuesday."
    other = _first(answerer, question, text.format("Russian", "Sergei Lavrov"))
    own = _first(answerer, question, text.format("Ukrainian", "Andrii Sybiha"))
    assert own.text == "Andrii Sybiha" and other.score < 0.6 * own.score


def test_count_nouns_and_products_set_the_unit_and_type():
    q = analyse("What number of drones did Ukraine bring down?")
    assert (q.expect, q.unit) == ("num", "drone")
    assert analyse("What percentage of Ukraine's territory does Russia occupy?").unit == "percent"
    assert analyse("What model of drone did Russia use?").expect == "name"
    # "Russia’s strike" is a noun: a count need not sit next to a verb "strike".
    assert analyse("How many people were killed in Russia’s strike on the railway hub?").verbs == {"kill"}


def test_a_percentage_needs_a_percent_and_a_date_more_than_a_weekday(answerer):
    assert _best(answerer, "What percentage of the territory does Russia occupy?",
                 "Russia launched 49 drones at the territory it does not occupy.") is None
    assert _best(answerer, "What percentage of the territory does Russia occupy?",
                 "Russia occupies about 19% of the territory.") in ("19%", "about 19%")
    date = _first(answerer, "On what date was the summit held?", "The summit was held on Friday.")
    day = _first(answerer, "On what day was the summit held?", "The summit was held on Friday.")
    assert date.text == day.text == "Friday" and date.score < 0.6 * day.score


# -- fifth round: rules from the third and fourth development sets (more in the short-answer table)


def test_a_word_after_a_subject_pronoun_or_an_auxiliary_is_a_verb():
    toks = tokens("it laid the groundwork; the station was being used")
    by = {t.lower: (t, toks[k - 1]) for k, t in enumerate(toks) if k}
    assert is_verbish(*by["laid"]) and is_verbish(*by["used"])
    assert not is_verbish(*by["groundwork"])


# The sentence cosines the retriever would attach matter here: they are what made the old answer win.
@pytest.mark.parametrize("question,text,cosines,expected", [
    pytest.param("Who did Putin meet with during his stopover before continuing to Alaska?",
                 "Putin’s Route to Alaska\nOn his way to Alaska, Putin stopped in Magadan to meet with the regional "
                 "governor before continuing his journey.", [0.62, 0.71],
                 "regional governor", id="a_heading_is_a_weaker_source_than_the_sentence_under_it"),
    pytest.param("According to whom was there a significant impact and a large fire at the oil pump station in the "
                 "Bryansk region?",
                 "One notable incident targeted the Unecha oil pump station in Russia’s western Bryansk region. "
                 "Ukraine’s General Staff reported a significant impact and a large-scale fire in the facility area.",
                 [0.57, 0.54], "Ukraine’s General Staff", id="according_to_whom_asks_for_who_reports_it"),
    pytest.param("Which American official reiterated that Europeans should carry the lion's share of the guarantees?",
                 "U.S. Vice President JD Vance echoed Washington’s position that Europe must shoulder the lion’s "
                 "share of any security guarantees.", [0.74],
                 "JD Vance", id="a_continent_is_no_official"),
    pytest.param("Which regions were the two ballistic missiles aimed at in the strike reported Friday morning?",
                 "On Friday morning, Ukraine’s Air Force reported that Russia launched two ballistic missiles "
                 "overnight. The missiles were fired at Kharkiv and Chernihiv.", [0.7, 0.55],
                 "Kharkiv and Chernihiv", id="a_country_is_no_region"),
    pytest.param("Which leader predicted that a follow-up meeting would matter more than his first sit-down?",
                 "Trump said that he hopes this first meeting will lead to a follow-up that includes Zelenskyy and "
                 "possibly European leaders. “The more important meeting will be the second one,” Trump predicted.",
                 [0.7, 0.7], "Trump", id="which_leader_asks_for_one_not_a_group"),
    pytest.param("How did the State Department characterize the phone conversation between the two top diplomats?",
                 "State Department spokesperson Tammy Bruce described the conversation as constructive, noting that "
                 "both sides confirmed their commitment.", [0.6],
                 "constructive", id="described_as_x_gives_the_characterisation"),
])
def test_the_short_answer_with_sentence_cosines(answerer, question, text, cosines, expected):
    passages, texts = _passages(("a", text))
    answer, _ = answerer.answer(question, [_with_cosines(passages[0], cosines)])
    assert answer is not None
    _check(answer, texts)
    assert answer.text == expected


@pytest.mark.parametrize("question,text,cosines", [
    pytest.param("What model of drone did Russia use in its strikes on Kyiv and Lviv?",
                 "Russia launched its largest wave of strikes in weeks, firing hundreds of drones and dozens of "
                 "missiles at Kyiv and Lviv. The strikes on Kyiv and Lviv prompted Poland to mobilize its air "
                 "defenses, Ukraine said.", [0.7, 0.6], id="a_country_is_no_model"),
    pytest.param("In which city of the Dnipropetrovsk region did the Russian attack set a critical facility on fire?",
                 "In the neighbouring Dnipropetrovsk region, Russian attacks ignited a fire at another critical "
                 "facility. In the Zaporizhzhia region, which the Kremlin claims is part of Russia, 3,000 people lost "
                 "power after the attack.", [0.74, 0.6], id="the_name_of_a_region_is_no_city"),
    pytest.param("What tariff rate did Trump threaten to impose on countries buying Russian exports?",
                 "Trump threatened to impose new sanctions on countries buying Russian exports.", [0.55],
                 id="a_rate_is_a_number"),
])
def test_a_span_of_the_wrong_kind_is_no_answer(answerer, question, text, cosines):
    passages, _ = _passages(("a", text))
    assert answerer.answer(question, [_with_cosines(passages[0], cosines)]) == (None, [])
