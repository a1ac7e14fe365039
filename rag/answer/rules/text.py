"""Word tokens with character offsets, and what a question asks for (its expected answer type).

Rules, not a model: the answerer must stay within a few milliseconds per question."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .words import (COUNT_NOUNS, DISTANCE_UNITS, DURATION_NOUNS, EVENT_NOUNS, FRAMING_VERBS, FUNCTION_WORDS,
                           IRREGULAR, NEGATIVE_VERBS, ORG_NOUNS, PERSON_NOUNS, PLACE_NOUNS, PRODUCT_NOUNS, TIME_NOUNS,
                           VERBS, WORD_NOUNS, is_demonym, is_number)
from ...tokens import STOPWORDS, pieces
from ...tokens import stem as snowball


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # offsets into the text that was tokenized (shifted by the caller's base)
    end: int
    lower: str
    stem: str
    is_word: bool
    is_cap: bool  # capitalised or a number: may belong to a name


def tokens(text: str, base: int = 0) -> list[Token]:
    out: list[Token] = []
    matches = list(pieces(text))
    stems = _stems([m.group(0).lower() for m in matches])
    for m, stem in zip(matches, stems):
        t = m.group(0)
        low = t.lower()
        word = t[0].isalnum()
        out.append(Token(t, base + m.start(), base + m.end(), low, stem, word, word and (t[0].isupper())))
    return out


def _stems(words: list[str]) -> list[str]:
    return [_stem(w) for w in words]


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    word = word.replace("’", "'")
    return snowball(IRREGULAR.get(word, word))


_SUBJECT_PRONOUNS = frozenset("he she it they we i".split())
_AUXILIARIES = frozenset("is are was were be been being has have had".split())
_MODALS = frozenset("will would shall should can could must might to".split())


def is_verbish(tok: Token, prev: Token | None) -> bool:
    """A verb by ending or by list: -ed/-ing words are verbs unless a determiner, a possessive or
    a number stands right before them ("a downed drone", "the coming days")."""
    low = tok.lower
    # A bare lowercase word after a modal is a verb ("should happen", "must decide"); after "to" too
    # unless it is a grammar word or a number ("to mobilize" but "to a successful event").
    if prev is not None and prev.lower in _MODALS and not tok.is_cap and low.isalpha() \
            and low not in FUNCTION_WORDS and not is_number(low):
        return True
    if low in VERBS:
        return prev is None or prev.lower not in ("a", "an", "the", "’s", "'s")
    if prev is not None and not tok.is_cap and low.isalpha() and low not in FUNCTION_WORDS:
        # "it laid the groundwork": a word right after a subject pronoun is its verb; "being used",
        # "has led": a participle after an auxiliary, however short.
        if prev.lower in _SUBJECT_PRONOUNS:
            return True
        if prev.lower in _AUXILIARIES and low.endswith(("ed", "en")):
            return True
    if (tok.is_cap and prev is not None) or len(low) < 5 or not low.isalpha():
        return False
    if low.endswith(("ed", "ing")):
        # "including landing craft": after "including" a list item starts, not a verb.
        return not (prev is not None and (prev.lower in ("a", "an", "the", "its", "their", "his", "her", "’s",
                                                           "'s", "our", "including") or is_number(prev.lower)))
    return False


# -- questions ---------------------------------------------------------------------------------

WH = ("who", "whom", "whose", "what", "which", "when", "where", "why", "how")


@dataclass
class Question:
    text: str
    stems: list[str]  # content stems
    names: set[str] = field(default_factory=set)  # stems of capitalised words and numbers past the first word
    words: set[str] = field(default_factory=set)  # every lowercase word of the question
    wh: str = ""  # who/what/which/when/where/why/how/how_many/how_long/how_far/...
    expect: str = "np"  # num, when, duration, distance, who, where, name, word, np, why, how, rank
    focus: str = ""  # the noun after which/what ("regions", "chancellor"), lowercased
    unit: str = ""  # the stem of the noun after "how many"
    # Where the answer sits relative to the question's words in a declarative sentence:
    # "after" for object questions ("what did both sides confirm their commitment to?"),
    # "before" for subject questions ("who said ...?"), "" when either.
    side: str = ""
    role: str = ""  # "who is the governor of X?", "the name of the Kyiv school": the noun a name must stand by
    role_asked: bool = True  # "who is the governor": the role is stated; "which official": only a kind of answer
    role_of: set[str] = field(default_factory=set)  # stems of the names after "<role> of" ("bryansk" of "of Bryansk")
    role_mod: str = ""  # the stem of a lowercase word before the role ("defence" of "defence minister")
    # Stems of the question's content verbs ("carrying", "struck"; not "say" or auxiliaries): in the
    # answering sentence an object answer stands after them.
    verbs: set[str] = field(default_factory=set)
    # The first five letters of the question's demonyms: "Russian regions" already names "Russia".
    demonyms: set[str] = field(default_factory=set)
    # Stems of the words between which/what and the focus noun ("TV" of "which TV network"): they
    # describe the kind of answer, so the answering passage need not repeat them.
    modifiers: set[str] = field(default_factory=set)
    # Stems of what "apart from / besides / other than X" sets aside: the answer stands beside X.
    excluded: set[str] = field(default_factory=set)
    # Asks what was refused or ruled out ("Which city did he rule out?").
    refusal: bool = False
    # "When did X say he would do Y?" asks when Y happens: a date before the answering sentence's
    # reporting verb dates the saying instead.
    reported: bool = False
    # "What did they agree at the end of the summit?" (past tense) asks what happened once an event
    # was over: the event noun ("summit"), or "" for any other question.
    after_event: str = ""
    # "According to whom ...?" asks for the source: whoever reports or says it.
    source: bool = False


# "How did the strike rank among ...?" asks for a place in an order ("third-largest").
_RANK_VERBS = frozenset("rank ranks ranked ranking".split())
_SOURCE = re.compile(r"\baccording to whom\b", re.IGNORECASE)
_NOT_FOCUS = frozenset("kind type sort first last initially recently previously currently".split())


def analyse(question: str) -> Question:
    every = tokens(question)
    q = _classify(question, every)
    q.refusal = refuses(every, len(every), len(every))
    speech = next((k for k, t in enumerate(every) if t.lower in SPEECH), -1)
    q.reported = q.expect == "when" and speech >= 0 and any(t.stem in q.verbs for t in every[speech + 1:])
    q.source = q.expect == "who" and bool(_SOURCE.search(question))
    m = after_event(question)
    if m and _PAST.search(question) and not _PROSPECTIVE.search(question):
        q.after_event = m
    return q


_EVENT = "(" + "|".join(sorted(EVENT_NOUNS)) + ")"
# "after the summit", "at the end of the Alaska summit", "following his European meetings".
_AFTER_EVENT = re.compile(
    r"\b(?:after|following|since|at the (?:end|close|conclusion) of|coming out of|as a result of)\s+"
    r"(?:(?:the|this|that|their|his|her|its|a|an)\s+)?(?:[\w’'\-]+\s+){0,3}?" + _EVENT + r"\b", re.I)
# "the summit ended", "the talks were held", "the meeting took place".
_EVENT_OVER = re.compile(
    r"\b" + _EVENT + r"\s+(?:(?:has|have|had)\s+)?(?:ended|concluded|closed|finished|wrapped up|broke up|"
    r"was held|were held|took place|yielded|produced)\b"
    # "At the summit, they agreed to ...".
    r"|\bat the (?:[\w’'\-]+\s+){0,3}?" + _EVENT + r"\b[^.;]*?\b(?:agreed|signed|reached|announced|said|declared|"
    r"pledged|promised)\b", re.I)
_PAST = re.compile(r"\b(?:did|was|were|had)\b", re.I)
_PROSPECTIVE = re.compile(r"\b(?:will|would|going to|expected|planned|plans?|scheduled|upcoming)\b", re.I)


def after_event(text: str) -> str:
    """The event noun that ``text`` places something after ("summit" of "at the end of the Alaska
    summit"), lowercased, or ""."""
    m = _AFTER_EVENT.search(text)
    return m.group(1).lower() if m else ""


def reports_over(text: str, event: str) -> bool:
    """Does ``text`` speak of the ``event`` as over ("after the summit", "the summit ended")?"""
    stem = _stem(event)
    return any(_stem((m.group(1) or m.group(2)).lower()) == stem for r in (_AFTER_EVENT, _EVENT_OVER)
               for m in r.finditer(text))


def _classify(question: str, every: list[Token]) -> Question:
    """``every`` is ``tokens(question)``, punctuation and possessives included."""
    toks = [t for t in every if t.is_word]
    lows = [t.lower for t in toks]
    stems = [t.stem for t in toks if len(t.lower) > 1 and t.lower not in FUNCTION_WORDS and t.lower not in STOPWORDS]
    q = Question(text=question, stems=stems, words={t.lower for t in toks} | {t.stem for t in toks},
                 names={t.stem for t in toks[1:] if t.is_cap and t.lower not in FUNCTION_WORDS})
    # The token before each word, possessives included: "Russia’s strike" is a noun.
    before = {t.start: every[k - 1] for k, t in enumerate(every) if k}
    q.verbs = {t.stem for n, t in enumerate(toks) if n and t.stem in q.stems and t.lower not in SPEECH
               and is_verbish(t, before.get(t.start, toks[n - 1]))}
    q.demonyms = {t.lower[:5] for t in toks if is_demonym(t.text) and len(t.lower) >= 5}
    q.excluded = _excluded(question)
    # The first wh-word decides; "In which port", "On what day" put it after a preposition.
    i = next((n for n, w in enumerate(lows) if w in WH), -1)
    if i < 0:
        q.wh, q.expect = "", "np"
        return q
    w = lows[i]
    nxt = lows[i + 1] if i + 1 < len(lows) else ""
    if w == "how":
        if nxt in ("many", "much"):
            q.wh, q.expect = "how_many", "num"
            # The counted noun: the last word of the phrase after "how many" ("how many of the
            # 97 Russian drones" -> drones).
            unit = None
            for k in range(i + 2, min(len(toks), i + 8)):
                t = toks[k]
                if t.lower in ("of", "the", "a", "an", "these", "those", "its", "their") and unit is None:
                    continue
                if t.lower in FUNCTION_WORDS or t.lower in VERBS or is_verbish(t, toks[k - 1]):
                    break
                unit = t
            q.unit = unit.stem if unit else ""
        elif nxt in ("long", "often"):
            q.wh, q.expect = "how_long", "duration"
        elif nxt in ("far", "close", "near", "big", "large", "high", "old", "deep", "wide"):
            q.wh, q.expect = "how_far", "num" if nxt in ("big", "large", "old") else "distance"
        else:
            q.wh = "how"
            q.expect = "word" if FRAMING_VERBS & set(lows) else "rank" if _RANK_VERBS & set(lows) else "how"
        return q
    if w in ("who", "whom", "whose"):
        q.wh, q.expect = "who", "who"
        q.side = _side(toks, i + 1)
        if nxt in ("is", "was", "are", "were"):
            q.role = _head(toks, i + 2)
            # "Who was Rubio's counterpart?": a relation, not a title the text repeats ("Foreign Minister").
            q.role_asked = not q.role or q.role in _TITLE_STEMS
            at = next((k for k in range(i + 2, len(toks)) if toks[k].stem == q.role), -1) if q.role else -1
            if at > 0 and not toks[at - 1].is_cap and toks[at - 1].lower not in FUNCTION_WORDS:
                q.role_mod = toks[at - 1].stem
            if at > 0 and at + 1 < len(toks) and toks[at + 1].lower == "of":
                q.role_of = {t.stem for t in toks[at + 2:] if t.is_cap and not is_demonym(t.text)}
            elif at > 0:
                # "Who is Ukraine's foreign minister?": the owner stands before the role.
                q.role_of = {t.stem for k, t in enumerate(every[:-1]) if t.is_cap and every[k + 1].text in ("’s", "'s")
                             and k > 1 and not is_demonym(t.text) and every[k + 2:k + 5] and
                             any(x.stem == q.role for x in every[k + 2:k + 5])}
        return q
    if w in ("when", "where", "why"):
        q.wh = q.expect = w
        return q
    q.wh = w
    # which/what: the focus noun is the last word of the phrase that follows the wh-word
    # ("which German chancellor" -> chancellor, "what kind of meeting proposal" -> kind).
    focus = ""
    prev = toks[i]
    phrase: list[Token] = []
    for t in toks[i + 1:i + 5]:
        if (t.lower in FUNCTION_WORDS or t.lower in VERBS or t.lower in _NOT_FOCUS
                or (focus and is_verbish(t, prev))):
            break
        focus, prev = t.lower, t
        phrase.append(t)
    q.modifiers = {t.stem for t in phrase[:-1]}
    if w == "what" and nxt in ("is", "was", "are", "were") and "name" in lows[i + 2:i + 5]:
        # "What is the name of X?" asks for a proper name.
        q.focus, q.expect = "name", "name"
        at = lows.index("name", i)
        if at + 1 < len(lows) and lows[at + 1] == "of":
            q.role = _head(toks, at + 2)
        return q
    if not focus and w == "what" and nxt in ("is", "was") and i + 3 < len(lows) and lows[i + 2] == "the" \
            and lows[i + 3] in COUNT_NOUNS and lows[i + 4:i + 5] == ["of"]:
        # "What was the size of the barrage?" counts: the noun before "of" is the focus.
        focus = lows[i + 3]
    if not focus and w == "what":
        # "What did Trump indicate were key topics ...?": the predicate noun is the focus.
        # "... would be key topics" too.
        be = next((k for k in range(i + 2, len(toks)) if lows[k] in _BE_PLURAL
                   or lows[k] == "be" and lows[k - 1] in _MODALS), -1)
        head = _head(toks, be + 1) if be > 0 else ""
        word = next((t.lower for t in toks[be + 1:] if t.stem == head), "") if head else ""
        if word.endswith("s") and not word.endswith("ss"):
            focus = word
    q.focus = focus
    q.expect = _expect_from_focus(focus, lows)
    if focus in COUNT_NOUNS:
        # "What percentage ...?" wants a percentage; "what number of drones" counts drones.
        at = lows.index(focus)
        nxt_words = [t for t in toks[at + 1:at + 5] if t.lower not in ("of", "the", "a", "an")]
        # "The size of the barrage" names the whole, not what is counted.
        q.unit = "percent" if focus in _SHARE_NOUNS else (nxt_words[0].stem if nxt_words and lows[at + 1:at + 2] == ["of"]
                                                            and focus != "size" else "")
    q.side = _side(toks, i + 1 + (1 if focus else 0))
    if q.expect == "who":
        q.role, q.role_asked = focus, False
    return q


_TITLE_STEMS = frozenset(_stem(w) for w in PERSON_NOUNS)
_RULE = frozenset("rule rules ruled ruling".split())


def refuses(toks: list[Token], i: int, reach: int) -> bool:
    """Is there a "say no" verb ("rejected", "ruled out") within ``reach`` tokens before token ``i``?"""
    window = toks[max(0, i - reach):i]
    return any(t.lower in NEGATIVE_VERBS or t.lower == "out" and k > 0 and window[k - 1].lower in _RULE
               for k, t in enumerate(window))


_EXCLUDING = re.compile(r"\b(?:apart from|aside from|besides|other than|in addition to)\s+([^,?;]+)", re.I)


def _excluded(question: str) -> set[str]:
    m = _EXCLUDING.search(question)
    if not m:
        return set()
    return {t.stem for t in tokens(m.group(1))
            if t.is_word and t.lower not in FUNCTION_WORDS and t.lower not in STOPWORDS}


def _head(toks: list[Token], k: int) -> str:
    """The last word of the noun phrase that starts at token ``k`` ("the regional governor" -> governor)."""
    head = ""
    for t in toks[k:k + 6]:
        if t.lower in ("the", "a", "an") and not head:
            continue
        if t.lower in FUNCTION_WORDS or t.lower in VERBS or (head and is_verbish(t, None)):
            break
        if not t.is_cap:  # "the UAE president Putin met": the role is "president", not a name
            head = t.stem
    return head


# Reporting verbs stand anywhere in a sentence ("..., Trump said."): no anchor for the answer.
SPEECH = frozenset("say says said saying tell tells told telling claim claims claimed claiming".split())
# Verbs by which a sentence names its source: "Ukraine's General Staff reported ...".
REPORTING = SPEECH | frozenset("report reports reported announce announces announced state states stated "
                               "confirm confirms confirmed note notes noted add adds added".split())
_BE_PLURAL = frozenset("are were".split())
_BE_VERBS = frozenset("be been being".split())
_BE = frozenset("is was are were".split())
_OBJECT_AUX = frozenset("did does do has have had will would can could should may might must".split())


def _side(toks: list[Token], k: int) -> str:
    if k >= len(toks):
        return ""
    nxt = toks[k]
    if nxt.lower in _OBJECT_AUX:
        # "Who should carry ...?" and "Who has been pressing ...?" ask for the subject; "What did
        # both sides confirm?" the object.
        m = k + 1
        while m + 1 < len(toks) and toks[m].lower in _BE_VERBS:
            m += 1
        if m < len(toks) and toks[m].lower not in _BE_VERBS and is_verbish(toks[m], toks[m - 1]):
            return "before"
        return "after"
    # "What was the truck carrying?", "What help are European leaders ready to give?": a subject
    # then a verb asks for the object; "What was destroyed?" (the verb right after "was") does not.
    if nxt.lower in _BE and k + 1 < len(toks) and not is_verbish(toks[k + 1], nxt) and \
            any(is_verbish(t, toks[m - 1]) for m, t in enumerate(toks[k + 2:], k + 2)):
        return "after"
    if nxt.lower in VERBS or is_verbish(nxt, toks[k - 1]):
        return "before"
    return ""


_SHARE_NOUNS = frozenset("percentage percent proportion".split())


def _expect_from_focus(focus: str, lows: list[str]) -> str:
    if not focus:
        return "np"
    if focus in COUNT_NOUNS:
        return "num"
    if focus == "point" and "at" in lows[:lows.index("point")]:
        return "when"  # "at what point"
    if focus == "time" and lows[:1] != ["when"]:
        return "clock"  # "what time": a clock time or a part of the day, a weekday only half fits
    if focus in TIME_NOUNS:
        return "duration" if "frame" in lows or "period" in lows else "when"
    if focus in DURATION_NOUNS:
        return "duration"
    if focus in DISTANCE_UNITS:
        return "distance"
    if focus in PERSON_NOUNS:
        return "who"
    if focus in PLACE_NOUNS:
        return "where"
    if focus in ORG_NOUNS or focus in PRODUCT_NOUNS:
        return "name"
    if focus in WORD_NOUNS:
        return "word"
    return "np"
