"""Closed word lists of general English and news style that the answer rules use. Nothing here
names a document: these are grammar words, titles, calendar words and units."""

from __future__ import annotations

import re

# Words that never start or end a short answer: determiners, prepositions, conjunctions,
# pronouns, auxiliaries and adverbs of degree. (Determiners are allowed inside, at the front.)
DETERMINERS = frozenset("a an the this that these those his her its their our your my some any each every".split())
PREPOSITIONS = frozenset(
    "of in on at to for from by with without into onto over under about after before between among through "
    "during against across along near within amid amidst despite toward towards via per as than upon around "
    "behind beyond inside outside off out up down since until till".split()
)
CONJUNCTIONS = frozenset("and or but nor so yet if while because although though whether that unless".split())
PRONOUNS = frozenset(
    "it he she they we i you him them us me who whom whose which what when where why how there here "
    "itself himself herself themselves this none".split()
)
AUXILIARIES = frozenset(
    "is are was were be been being am has have had having do does did will would shall should can could "
    "may might must not no never also only just even still already very more most less least such "
    "then now today yesterday tomorrow tonight overnight later earlier ago again however meanwhile "
    "too once soon recently reportedly officially directly immediately further".split()
)
FUNCTION_WORDS = DETERMINERS | PREPOSITIONS | CONJUNCTIONS | PRONOUNS | AUXILIARIES

# Common verbs of news prose that do not end in -ed/-ing (those are caught by their ending).
VERBS = frozenset(
    "say says said tell tells told meet meets met make makes made take takes took give gives gave come comes "
    "came go goes went see sees saw seek seeks sought speak speaks spoke hold holds held lead leads led lose "
    "loses lost get gets got begin begins began fall falls fell become becomes became bring brings brought "
    "build builds built send sends sent strike strikes struck shoot shoots shot win wins won want wants need "
    "needs keep keeps kept show shows help helps hit hits set sets put puts think thinks thought know knows "
    "knew believe believes hope hopes insist insists warn warns urge urges remain remains seem seems appear "
    "appears include includes call calls claim claims note notes add adds plan plans aim aims mark marks "
    "wrote write writes run runs ran stand stands stood leave leaves left rise rises rose let lets "
    "agree agrees ask asks find finds found feel feels felt pay pays paid buy buys bought share shares "
    "serve serves face faces recognize recognizes sees push pushes threaten threatens continue continues "
    "lie lies lay suggest suggests stress stresses echo echoes accept accepts decline declines".split()
)

# Titles and roles that precede a name ("regional governor Vyacheslav Gladkov").
TITLES = frozenset(
    "president vice prime minister foreign defence defense interior finance secretary press state chancellor "
    "governor interim regional spokesman spokeswoman spokesperson envoy special sheikh king queen prince "
    "princess pope mayor senator sen rep representative ambassador general gen commander chief head leader "
    "mr mrs ms dr prof sir lord lady deputy acting former chairman chairwoman chair director officer "
    "official minister's ceo founder judge justice attorney colonel col captain capt lieutenant lt sergeant "
    "sgt admiral adm marshal envoy's emir crown".split()
)
# Nouns that name a person by role: a "who" question's focus, or the role next to a name.
PERSON_NOUNS = TITLES | frozenset(
    "person man woman people official officials spokesperson politician diplomat journalist reporter "
    "analyst expert leader leaders minister ministers mediator negotiator author writer founder owner".split()
)
PLACE_NOUNS = frozenset(
    "country countries city cities town towns region regions place places port venue location capital state "
    "province area village site installation base border frontier peninsula island continent nation "
    "district territory airport station facility front lines coast sea river".split()
)
ORG_NOUNS = frozenset(
    "newspaper network outlet platform agency company organisation organization group channel party "
    "firm institution ministry department publication broadcaster website app service body alliance "
    "union team club paper magazine station".split()
)
TIME_NOUNS = frozenset(
    "day days date time year years month months week weeks hour hours night evening morning afternoon "
    "weekday season".split()
)
DURATION_NOUNS = frozenset("long period frame duration".split())
# "What number ...?", "what percentage ...?" ask for a number.
COUNT_NOUNS = frozenset(
    "number numbers figure figures total count tally amount percentage percent proportion size rate".split()
)
# Places that have proper names: "which city?" is answered by "Kyiv", not by "the school courtyard".
NAMED_PLACE_NOUNS = frozenset(
    "country countries city cities town towns region regions capital province village port state nation".split()
)
# Places inside a country: "which regions?" is not answered by "Russia".
REGION_NOUNS = frozenset("city cities town towns region regions province provinces village villages district "
                         "districts oblast oblasts port ports".split())
# Heads of noun phrases that name people or bodies: "European governments" answers "who".
GROUP_HEADS = frozenset(
    "officials governments authorities leaders forces ministers diplomats lawmakers allies partners "
    "officers troops residents analysts experts critics observers nations countries".split()
)
WORD_NOUNS = frozenset("word words term phrase name label expression".split())
# "How is the White House framing the meeting?" asks for the words used: usually a quote.
FRAMING_VERBS = frozenset(
    "frame framing framed describe describes describing described bill billing billed characterize "
    "characterise characterizing characterising characterized characterised label labelling labeling "
    "labelled labeled portray portraying portrayed dub dubbing dubbed brand branding branded term termed".split()
)
# Verbs that mean "say no to": a question with one asks for what a negation in the text governs
# ("Which city did he rule out?" -> "it cannot take place in Moscow").
NEGATIVE_VERBS = frozenset(
    "refuse refuses refused refusing reject rejects rejected rejecting deny denies denied denying exclude "
    "excludes excluded excluding oppose opposes opposed opposing dismiss dismissed dismissing ban banned "
    "forbid forbade forbidden prohibit prohibited veto vetoed".split()
)
# Scheduled events that a document may describe before they happen ("the summit is set for Friday").
EVENT_NOUNS = frozenset(
    "summit summits meeting meetings talks negotiations conference visit call election vote session trip".split()
)
# The last word of an organisation's name: "Ukraine’s Air Force" or "General Staff" is no place.
ORG_HEADS = frozenset(
    "force forces staff ministry council committee commission agency office service services army navy "
    "guard police parliament department bank party administration government command corps "
    "directorate bureau authority authorities institute foundation company".split()
)

WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
DAY_PARTS = frozenset("morning afternoon evening night midnight noon dawn dusk".split())
TIME_UNITS = frozenset(
    "second seconds minute minutes hour hours day days week weeks month months year years decade decades "
    "century centuries weekend".split()
)
DISTANCE_UNITS = frozenset(
    "kilometer kilometers kilometre kilometres km miles mile meters metres meter metre feet foot yards".split()
)
NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
    "million billion trillion dozen dozens hundreds thousands millions billions both several few".split()
)
# Words in front of a number that belong to the answer ("more than 30", "at least six").
NUMBER_MODIFIERS = (
    ("more", "than"), ("less", "than"), ("fewer", "than"), ("at", "least"), ("at", "most"), ("up", "to"),
    ("as", "many", "as"), ("around",), ("about",), ("nearly",), ("almost",), ("over",), ("some",), ("roughly",),
    ("approximately",), ("only",), ("just",), ("some",), ("under",),
)
RELATIVE_TIME = frozenset("last this next past coming previous following earlier later".split())
PERIOD_WORDS = frozenset("week weekend month year days weeks months years".split())
EDGE_WORDS = frozenset("start end beginning middle height close".split())

_DIGITS = re.compile(r"^\d[\d,.]*(?:-[^\W\d_]+)*$")


def is_number(lower: str) -> bool:
    """A digit string ("3,000", "30-day") or a number word."""
    return bool(_DIGITS.match(lower)) or lower in NUMBER_WORDS or lower.split("-")[0] in NUMBER_WORDS


_DEMONYMS = frozenset(
    "german french dutch british irish greek swiss thai czech polish danish finnish swedish turkish "
    "iraqi israeli pakistani afghan saudi kuwaiti qatari emirati yemeni omani bangladeshi nepali".split()
)


def is_demonym(word: str) -> bool:
    """"Russian", "Ukrainian", "European", "Chinese", "U.S.": adjectives of origin, not names."""
    if word in ("U.S.", "US", "UK", "U.K.", "EU", "UN", "U.N."):
        return True
    low = word.lower()
    if not word[:1].isupper():
        return False
    return low in _DEMONYMS or (len(low) > 4 and low.endswith(("ian", "ean", "ese", "ish", "ican")))

# Past forms that a stemmer leaves apart from their verb ("shot" and "shoot").
IRREGULAR = {
    past: base for base, forms in {
        "say": "said", "tell": "told", "meet": "met", "make": "made", "take": "took taken", "give": "gave given",
        "come": "came", "go": "went gone", "see": "saw seen", "speak": "spoke spoken", "hold": "held",
        "lead": "led", "lose": "lost", "get": "got gotten", "begin": "began begun", "fall": "fell fallen",
        "become": "became", "bring": "brought", "build": "built", "send": "sent", "strike": "struck",
        "shoot": "shot", "win": "won", "keep": "kept", "think": "thought", "know": "knew known",
        "leave": "left", "stand": "stood", "find": "found", "feel": "felt", "pay": "paid", "buy": "bought",
        "run": "ran", "rise": "rose risen", "write": "wrote written", "choose": "chose chosen", "drive": "drove",
        "fly": "flew flown", "fight": "fought", "break": "broke broken", "spend": "spent", "seek": "sought",
        "teach": "taught", "catch": "caught", "mean": "meant", "hear": "heard", "sell": "sold",
    }.items() for past in forms.split()
}

# Nouns that count people: "around 3,000 people" answers "how many residents".
PEOPLE_COUNTS = frozenset("people persons residents civilians inhabitants citizens households customers locals".split())

# Country names (lowercase; several words where the name has them): "which country?" wants one of
# these or a demonym ("North Korean-made"), not a city or an organisation ("Kremlin").
# "What model?" asks for a product's name.
PRODUCT_NOUNS = frozenset("model make brand".split())
CONTINENTS = frozenset("europe asia africa america americas oceania antarctica".split())
COUNTRIES = frozenset("""
afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas bahrain
bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei bulgaria
burkina burundi cambodia cameroon canada chad chile china colombia comoros congo croatia cuba cyprus
czechia denmark djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland france
gabon gambia georgia germany ghana greece grenada guatemala guinea guyana haiti honduras hungary iceland
india indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya kiribati kosovo kuwait
kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania luxembourg madagascar malawi
malaysia maldives mali malta mauritania mauritius mexico micronesia moldova monaco mongolia montenegro
morocco mozambique myanmar namibia nauru nepal netherlands nicaragua niger nigeria norway oman pakistan
palau palestine panama paraguay peru philippines poland portugal qatar romania russia rwanda samoa
senegal serbia seychelles singapore slovakia slovenia somalia spain sudan suriname sweden switzerland
syria taiwan tajikistan tanzania thailand togo tonga tunisia turkey turkmenistan tuvalu uganda ukraine
uruguay uzbekistan vanuatu venezuela vietnam yemen zambia zimbabwe britain england scotland wales
us u.s. usa america uk u.k. uae
""".split()) | frozenset({
    "north korea", "south korea", "united states", "united kingdom", "united arab emirates", "saudi arabia",
    "south africa", "new zealand", "sri lanka", "costa rica", "el salvador", "ivory coast", "czech republic",
    "dominican republic", "north macedonia", "east timor", "papua new guinea", "south sudan", "vatican city",
    "the netherlands", "the united states", "the united kingdom", "the united arab emirates",
})
COUNTRY_NOUNS = frozenset("country countries nation nations state states".split())
