"""Candidate answer spans in one sentence: numbers with their unit, dates and times, names,
noun phrases, quoted words and clauses. Each candidate is a token range and a kind."""

from __future__ import annotations

from dataclasses import dataclass

from .text import Token, is_verbish
from .words import (DAY_PARTS, DETERMINERS, DISTANCE_UNITS, EDGE_WORDS, FUNCTION_WORDS, MONTHS,
                           NUMBER_MODIFIERS, PERIOD_WORDS, PLACE_NOUNS, PREPOSITIONS, RELATIVE_TIME, TIME_UNITS,
                           TITLES, WEEKDAYS, is_demonym, is_number)

# Kinds: num, num_dur (a number of days/hours...), num_dist, date, name, place (a name after in/at/to...),
# np, quote, clause, cause (a clause after because/due to...), means (after by/from/through/via),
# content (the "that" clause after the question's focus noun), rank ("third-largest"), rank_top
# ("largest"), sentence.
_PLACE_PREPS = frozenset("in at to from near into across outside inside over toward towards".split())
_CAUSE_MARKERS = (("due", "to"), ("because", "of"), ("because",), ("since",), ("as", "a", "result", "of"),
                  ("with",), ("of",), ("for",), ("to",), ("by",), ("after",), ("amid",), ("from",), ("on",),
                  ("via",), ("through",), ("without",))
# Markers of the means or the source: "How was he hurt?" -> "from falling drone debris".
_MEANS = frozenset("by from through via".split())
_INVERTING_MODALS = frozenset("can could will would should must may might".split())
_CLAUSE_END = frozenset(",.;:—–!?()“”\"")
_NAME_LINKS = frozenset("bin al el de da di von van der la le ibn of".split())
_OPEN_QUOTES = frozenset("“\"‘")
_CLOSE_QUOTES = frozenset("”\"’")


@dataclass(frozen=True)
class Cand:
    i: int  # first token
    j: int  # one past the last token
    kind: str
    unit: int = 0  # tokens at the end that are a number's unit (exempt from the no-repeat rule)
    is_list: bool = False  # a coordination: "Kharkiv, Sumy, and Chernihiv"
    part: bool = False  # a part of a longer phrase, cut at the question's own words


def _content(tok: Token, prev: Token | None) -> bool:
    """May this token sit inside a short answer phrase?"""
    if not tok.is_word:
        return tok.text in ("’s", "'s")
    if tok.lower in FUNCTION_WORDS and not (tok.is_cap and prev is not None and prev.is_cap):
        return is_number(tok.lower) or tok.lower in ("one",)
    return not is_verbish(tok, prev)


def segments(toks: list[Token]) -> list[tuple[int, int]]:
    """Maximal runs of content tokens, never starting or ending on a possessive."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(toks)
    while i < n:
        if not _content(toks[i], toks[i - 1] if i else None) or toks[i].text in ("’s", "'s"):
            i += 1
            continue
        j = i + 1
        while j < n and _content(toks[j], toks[j - 1]):
            j += 1
        while j > i and toks[j - 1].text in ("’s", "'s"):
            j -= 1
        out.append((i, j))
        i = j
    return out


def candidates(toks: list[Token], qwords: set[str], fixed: list[Cand] | None = None) -> list[Cand]:
    """Every candidate span of one sentence. ``qwords`` holds the question's lowercase words and
    stems, so sub-phrases that leave out the question's own words are offered too. ``fixed`` is
    ``fixed_candidates(toks)`` if the caller has it cached."""
    out: list[Cand] = list(fixed if fixed is not None else fixed_candidates(toks))
    inq = [t.stem in qwords or t.lower in qwords for t in toks]
    for i, j in segments(toks):
        # The parts of the phrase that the question does not already say.
        k = i
        while k < j:
            if inq[k] or toks[k].text in ("’s", "'s"):
                k += 1
                continue
            m = k + 1
            while m < j and not inq[m] and toks[m].text not in ("’s", "'s"):
                m += 1
            if (k, m) != (i, j):
                out.append(Cand(k, m, _np_kind(toks, k, m), part=True))
            k = m
    return out


def fixed_candidates(toks: list[Token]) -> list[Cand]:
    """The candidates that do not depend on the question: cacheable per sentence."""
    out: list[Cand] = []
    segs = segments(toks)
    for i, j in segs:
        out.append(Cand(i, j, _np_kind(toks, i, j)))
        out.extend(_names(toks, i, j))
    out.extend(_lists(toks, segs))
    out.extend(_complemented(toks, segs))
    out.extend(_numbers(toks, segs))
    out.extend(_dates(toks))
    out.extend(_quotes(toks))
    out.extend(_ranks(toks))
    out.extend(_clauses(toks))
    if toks:
        out.append(Cand(0, len(toks), "sentence"))
    return out


def _np_kind(toks: list[Token], i: int, j: int) -> str:
    words = [t for t in toks[i:j] if t.is_word]
    if not words:
        return "np"
    if all(t.lower in WEEKDAYS or t.lower in MONTHS or t.lower in DAY_PARTS or t.lower.isdigit() for t in words):
        return "date"
    place_ctx = _place_context(toks, i)
    if len(words) > 1 and words[0].lower in ("both", "either"):
        words = words[1:]  # "both Putin and Zelenskyy" is a list of names
    head = words[-1].lower
    names = [t for t in words if t.is_cap and t.lower not in _LIST_WORDS]
    if names and all(t.is_cap or t.lower in _LIST_WORDS for t in words[:-1]) and \
            (words[-1].is_cap or head in PLACE_NOUNS) and not all(is_demonym(t.text) for t in names):
        if place_ctx or head in PLACE_NOUNS:
            return "place"
        return "name"
    # After "in/at/to" a capitalised head or a determined phrase makes a place ("in occupied
    # Crimea", "in a school courtyard"); a bare common noun is an idiom ("in response", "at risk").
    if head in PLACE_NOUNS or place_ctx and (words[-1].is_cap or i > 0 and toks[i - 1].lower in DETERMINERS):
        return "place_np"
    return "np"


def _place_context(toks: list[Token], i: int) -> bool:
    """Does a place preposition stand right before token ``i``, or before the pair it ends ("in
    Kharkiv and Chernihiv"; but "Berlin, Germany" is no list)? "up to Ukraine and Russia" says who
    decides, not where."""
    k = i
    while k >= 2 and toks[k - 1].lower in ("and", "or") and toks[k - 2].is_cap:
        k -= 2
        while k >= 1 and toks[k - 1].is_cap:
            k -= 1
    for m in range(max(0, k - 2), k):
        if toks[m].lower in _PLACE_PREPS and not (toks[m].lower == "to" and m > 0 and toks[m - 1].lower in ("up", "due")):
            return True
    return False


_LIST_WORDS = frozenset(["and", "or", ","] + list(_NAME_LINKS))


def _names(toks: list[Token], i: int, j: int) -> list[Cand]:
    """Capitalised runs inside a phrase, also without leading titles and demonyms
    ("German Chancellor Friedrich Merz" -> "Friedrich Merz")."""
    out: list[Cand] = []
    k = i
    while k < j:
        if not toks[k].is_cap or not _nameish(toks[k], k):
            k += 1
            continue
        m = k + 1
        while m < j and (toks[m].is_cap and _nameish(toks[m], m) or (toks[m].lower in _NAME_LINKS and m + 1 < j and toks[m + 1].is_cap)
                         or toks[m].text in ("’s", "'s") and m + 1 < j and toks[m + 1].is_cap):
            m += 1
        s = k
        while s < m - 1 and (toks[s].lower in TITLES or is_demonym(toks[s].text)):
            s += 1
        # "UAE President Sheikh Mohamed ..." -> after the last title word.
        for t in range(m - 2, s - 1, -1):
            if toks[t].lower in TITLES:
                s = t + 1
                break
        for a in {k, s}:
            if (a, m) != (i, j) and not all(is_demonym(t.text) or t.lower in TITLES for t in toks[a:m]):
                out.append(Cand(a, m, _np_kind(toks, a, m)))
            # With the place noun after it, without the modifiers before it: "neighbouring
            # Dnipropetrovsk region" -> "Dnipropetrovsk region".
            if a > i and m < j and toks[j - 1].lower in PLACE_NOUNS and all(not t.is_cap for t in toks[m:j]):
                out.append(Cand(a, j, _np_kind(toks, a, j)))
        # After a possessive: "Ukraine’s General Staff" -> "General Staff".
        for p in range(k, m):
            if toks[p].text in ("’s", "'s") and p + 1 < m:
                out.append(Cand(p + 1, m, _np_kind(toks, p + 1, m)))
        k = m
    return out


def _nameish(tok: Token, k: int) -> bool:
    """A capitalised word that may be part of a name: not a weekday or month, and not a
    sentence-initial function word or verb ("The", "Speaking")."""
    if tok.lower in WEEKDAYS or tok.lower in MONTHS and tok.lower != "may":
        return False
    if k == 0 and (tok.lower in FUNCTION_WORDS or tok.lower.endswith(("ing", "ed", "ly"))):
        return False
    # "We’ll", "It’s": a pronoun with a contracted verb names nobody.
    return not tok.lower.endswith(_CONTRACTIONS)


_CONTRACTIONS = tuple(a + b for a in ("’", "'") for b in ("ll", "re", "ve", "m", "d", "s")) + ("n’t", "n't")


def _lists(toks: list[Token], segs: list[tuple[int, int]]) -> list[Cand]:
    """Coordinations: "Kharkiv, Sumy, Donetsk, and Chernihiv regions", "humanitarian and military aid"."""
    out: list[Cand] = []
    for a in range(len(segs)):
        if a > 0 and [t.text for t in toks[segs[a - 1][1]:segs[a][0]]] == [","]:
            continue  # not the start of the list
        end = segs[a][1]
        for b in range(a + 1, len(segs)):
            gap = [t.lower for t in toks[end:segs[b][0]]]
            if gap in (["and"], ["or"], [",", "and"], [",", "or"]):
                if not _verb_object(toks, *segs[b]):
                    out.append(Cand(segs[a][0], segs[b][1], _np_kind(toks, segs[a][0], segs[b][1]), is_list=True))
                break
            if gap != [","]:
                break
            end = segs[b][1]
    return out


# Nouns that take a complement to mean anything: "unwillingness to engage in negotiations",
# "legitimacy as Ukraine's president", "violation of its airspace".
_ABSTRACT_ENDINGS = ("ness", "ity", "acy", "tion", "sion", "ment", "ance", "ence", "ship")
_COMPLEMENT_PREPS = frozenset("of to as about for over with on against".split())


def takes_complement(toks: list[Token], j: int) -> bool:
    """Does the phrase that ends before token ``j`` end in an abstract noun that the preposition at
    ``j`` completes?"""
    return 0 < j < len(toks) - 1 and toks[j].lower in _COMPLEMENT_PREPS and toks[j - 1].is_word \
        and not toks[j - 1].is_cap and toks[j - 1].lower.endswith(_ABSTRACT_ENDINGS) \
        and not (toks[j].lower == "as" and _clause_after(toks, j + 1))


def _clause_after(toks: list[Token], k: int) -> bool:
    """Does a clause start at ``k`` (a verb within four words, before any punctuation)? Then the
    "as" before it is a conjunction: "a fire at another critical facility as their forces pressed
    forward"."""
    for m in range(k, min(len(toks), k + 4)):
        if not toks[m].is_word:
            return False
        if is_verbish(toks[m], toks[m - 1]):
            return True
    return False


def _complemented(toks: list[Token], segs: list[tuple[int, int]]) -> list[Cand]:
    """An abstract noun phrase with its complement, up to two prepositional steps: "Putin’s
    unwillingness to engage in negotiations"."""
    out: list[Cand] = []
    starts = {i: j for i, j in segs}
    for i, j in segs:
        if not takes_complement(toks, j):
            continue
        end = j
        for _ in range(2):
            if end >= len(toks) or toks[end].lower not in _COMPLEMENT_PREPS and toks[end].lower not in PREPOSITIONS:
                break
            k = end + 1
            if toks[end].lower == "to" and k < len(toks) and is_verbish(toks[k], toks[end]):
                end = k + 1  # "to engage": an infinitive; its own complement may follow
                continue
            if k not in starts or starts[k] - i > 12:
                break
            end = starts[k]
        if end > j:
            out.append(Cand(i, end, "np"))
    return out


def _verb_object(toks: list[Token], i: int, j: int) -> bool:
    """Is toks[i:j] a verb, its object and then "to" and a verb ("pressure Russia to negotiate")?
    Then it coordinates with a verb phrase, not with the noun phrase before "and"."""
    return (j - i >= 2 and toks[i].is_word and not toks[i].is_cap and toks[i + 1].is_cap
            and j + 1 < len(toks) and toks[j].lower == "to" and is_verbish(toks[j + 1], toks[j]))


def _numbers(toks: list[Token], segs: list[tuple[int, int]]) -> list[Cand]:
    out: list[Cand] = []
    seg_end = {}
    for i, j in segs:
        for k in range(i, j):
            seg_end[k] = j
    n = len(toks)
    for k, t in enumerate(toks):
        if not t.is_word or not is_number(t.lower) or t.lower in ("one",) and k + 1 < n and toks[k + 1].lower == "of":
            continue
        if len(t.lower) == 4 and t.lower.isdigit() and k > 0 and toks[k - 1].text == ",":
            continue  # the year of a date
        start = k
        for mod in NUMBER_MODIFIERS:
            a = k - len(mod)
            if a >= 0 and tuple(x.lower for x in toks[a:k]) == mod:
                start = a
                break
        last = k + 1
        # A range: "seven to 10 days".
        if k + 2 < n and toks[k + 1].lower in ("to", "-", "–", "or") and is_number(toks[k + 2].lower):
            last = k + 3
        if last < n and toks[last].text == "%":
            last += 1  # "19%"
        end = seg_end.get(last - 1, last)
        end = max(end, last)
        unit_words = [x.lower for x in toks[last:end]]
        suffix = t.lower.split("-")[-1] if "-" in t.lower else ""
        kind = "num"
        if suffix in TIME_UNITS or any(w in TIME_UNITS for w in unit_words[:3]):
            kind = "num_dur"
        elif suffix in DISTANCE_UNITS or any(w in DISTANCE_UNITS for w in unit_words[:2]):
            kind = "num_dist"
        for s in {start, k}:
            out.append(Cand(s, last, kind if suffix else ("num" if kind == "num" else kind + "_bare")))
            # The unit: the rest of the phrase, and each shorter prefix that ends on a noun-like word.
            # A unit in the number itself ("three-hour meeting") leaves the rest a plain noun.
            if suffix in TIME_UNITS or suffix in DISTANCE_UNITS:
                continue
            for e in range(last + 1, end + 1):
                out.append(Cand(s, e, kind, unit=e - last))
    return out


def _dates(toks: list[Token]) -> list[Cand]:
    out: list[Cand] = []
    n = len(toks)
    for k, t in enumerate(toks):
        low = t.lower
        if low in WEEKDAYS:
            e = k + 1
            if e < n and toks[e].lower in DAY_PARTS:
                e += 1
            out.append(Cand(k, e, "date"))
        elif low in MONTHS and t.is_cap:
            e = k + 1
            if e < n and toks[e].lower.isdigit():
                e += 1
                if e + 1 < n and toks[e].text == "," and toks[e + 1].lower.isdigit() and len(toks[e + 1].lower) == 4:
                    e += 2
            elif e < n and toks[e].lower.isdigit() and len(toks[e].lower) == 4:
                e += 1
            out.append(Cand(k, e, "date"))
        elif low.isdigit() and len(low) == 4 and 1000 < int(low) < 2200:
            out.append(Cand(k, k + 1, "date"))
        elif low in DAY_PARTS and low in ("midnight", "noon", "dawn", "dusk"):
            s = k
            if s > 0 and toks[s - 1].lower in ("after", "before", "around", "at", "by"):
                s -= 1
                if s > 0 and toks[s - 1].lower in ("just", "shortly", "soon", "right", "well"):
                    s -= 1
            out.append(Cand(s, k + 1, "date"))
        elif low in RELATIVE_TIME and k + 1 < n:
            e = k + 1
            if toks[e].lower == "this" and e + 1 < n:
                e += 1
            if toks[e].lower in PERIOD_WORDS:
                s = k - 1 if k > 0 and toks[k - 1].lower == "the" else k
                if s > 0 and toks[s - 1].lower in ("in", "within", "over"):
                    out.append(Cand(s - 1, e + 1, "date"))
                out.append(Cand(s, e + 1, "date"))
        elif low in EDGE_WORDS and k > 0 and toks[k - 1].lower == "the" and k + 1 < n and toks[k + 1].lower == "of":
            # "at the start of the school day"
            e = k + 2
            while e < n and toks[e].is_word and (toks[e].lower in DETERMINERS or not is_verbish(toks[e], toks[e - 1])) \
                    and toks[e].lower not in FUNCTION_WORDS - DETERMINERS:
                e += 1
            if e > k + 2 and any(x.lower in TIME_UNITS or x.lower in DAY_PARTS for x in toks[k + 2:e]):
                s = k - 2 if k > 1 and toks[k - 2].lower in ("at", "by", "from", "until") else k - 1
                out.append(Cand(s, e, "date"))
                out.append(Cand(k - 1, e, "date"))
    return out


_ORDINALS = frozenset("first second third fourth fifth sixth seventh eighth ninth tenth".split())
_SUPERLATIVES = frozenset("largest biggest smallest highest lowest greatest deadliest heaviest worst best "
                          "longest shortest strongest fastest most least".split())


def _ranks(toks: list[Token]) -> list[Cand]:
    """A place in an order: "third-largest", "second", "12th" (kind rank); a bare superlative
    ("largest") ranks too, less precisely (rank_top)."""
    out: list[Cand] = []
    for k, t in enumerate(toks):
        head = t.lower.split("-")[0]
        if head in _ORDINALS or head[:1].isdigit() and head.endswith(("st", "nd", "rd", "th")) and head[:-2].isdigit():
            out.append(Cand(k, k + 1, "rank"))
        elif t.lower in _SUPERLATIVES:
            out.append(Cand(k, k + 1, "rank_top"))
    return out


def _quotes(toks: list[Token]) -> list[Cand]:
    out: list[Cand] = []
    for k, t in enumerate(toks):
        if t.text in _OPEN_QUOTES:
            for e in range(k + 1, min(len(toks), k + 7)):
                if toks[e].text in _CLOSE_QUOTES:
                    inner_end = e
                    if toks[e - 1].text in (".", ","):
                        inner_end = e - 1
                    if inner_end > k + 1:
                        out.append(Cand(k + 1, inner_end, "quote"))
                    break
    return out


def _clauses(toks: list[Token]) -> list[Cand]:
    """From a marker word to the next clause boundary: "due to its short notice", "from falling
    drone debris". The span after the marker is offered as well."""
    out: list[Cand] = []
    n = len(toks)
    for k in range(n):
        for marker in _MARKERS_BY_FIRST.get(toks[k].lower, ()):
            e = k + len(marker)
            if e < n and tuple(x.lower for x in toks[k:e]) == marker:
                end = e
                while end < n and end - e < 14:
                    if toks[end].text in _CLAUSE_END and not (toks[end].text == "," and _list_follows(toks, end)):
                        break
                    if toks[end].lower in _INVERTING_MODALS and end > e + 1:
                        break  # "only by showing solidarity | can Russia be nudged": the main clause resumes
                    end += 1
                if end > e:
                    kind = _clause_kind(toks, marker, e, end)
                    out.append(Cand(e, end, kind))
                    out.append(Cand(k, end, kind))
                    if kind == "cause" and marker == ("to",):
                        # A purpose ends before its first later preposition: "to transport weapons
                        # and military equipment | to the Donbas front lines".
                        cut = next((m for m in range(e + 2, end) if toks[m].lower in PREPOSITIONS), end)
                        if cut < end:
                            out.append(Cand(k, cut, kind))
                break
    return out


def _list_follows(toks: list[Token], k: int) -> bool:
    """Does the comma at ``k`` continue a list that an "and" / "or" closes before the clause ends
    ("through virtual briefings, European visits, and public diplomacy")?"""
    for m in range(k + 1, min(len(toks), k + 10)):
        if toks[m].lower in ("and", "or"):
            return m > k + 1 or toks[m - 1].text == ","
        if toks[m].text in _CLAUSE_END and toks[m].text != ",":
            return False
    return False


def _clause_kind(toks: list[Token], marker: tuple[str, ...], e: int, end: int) -> str:
    first = marker[0]
    if first in ("due", "because", "since", "as"):
        return "cause"
    if first == "with":
        # "with the winter months approaching" gives a reason; "siding with Moscow" does not.
        return "cause" if any(t.lower.endswith("ing") and len(t.lower) > 4 for t in toks[e:end]) else "clause"
    if first == "to":
        # "to transport weapons": a purpose; "to a successful event": a destination.
        t = toks[e]
        return "cause" if t.is_word and not t.is_cap and t.lower.isalpha() and t.lower not in FUNCTION_WORDS \
            and not is_number(t.lower) else "clause"
    return "means" if first in _MEANS else "clause"


def content_clauses(toks: list[Token], focus_stem: str) -> list[Cand]:
    """The clause that spells out the question's focus noun: "a common position that the war must
    end" for "what position ...?", with and without the "that"."""
    out: list[Cand] = []
    if not focus_stem:
        return out
    n = len(toks)
    for k in range(n - 2):
        if toks[k].stem == focus_stem and toks[k + 1].lower == "that":
            end = k + 2
            while end < n and toks[end].text not in _CLAUSE_END and end - k < 16:
                end += 1
            if end > k + 2:
                out.append(Cand(k + 2, end, "content"))
                out.append(Cand(k + 1, end, "content"))
    return out


_MARKERS_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _m in _CAUSE_MARKERS:
    _MARKERS_BY_FIRST.setdefault(_m[0], []).append(_m)
