"""Lexical, model-free check of whether a sentence is supported by a passage.

This is the *evaluation suite's own* support checker.  It deliberately shares
no code with the assistant's verifier (``rag/``) or the retrieval index
(``index/``): an evaluation that re-used the system's own verifier would only
measure agreement with itself.

It follows the ALCE-style recipe for judging citation support without an NLI
model.  The passage is split into sentences and every window of 1-3
consecutive passage sentences is tried; the sentence is supported when *some*
window passes all of these checks:

1. **Numbers and dates.**  Every number, date, percentage, year, ordinal and
   relative date ("next week") in the sentence appears in the window after
   normalisation: ``1,000 == 1000 == one thousand``, ``20% == 20 percent``,
   ``3.5 million == 3500000``, ``June 2, 2025 == 2 June 2025`` (a date is a
   set of atoms: month, day, year), ``fourth == four``, ``tens of thousands``
   and ``millions`` are order-of-magnitude atoms, seasons ("winter") and
   relative dates ("next week", "in recent months") are atoms too.  A bare
   "one" in the sentence is not required ("one of the ...").
2. **Names.**  Every capitalised token that is not a sentence-initial
   function/discourse word, a title (President, Minister...) or a month
   appears in the window, with simple variants: possessive ``'s``,
   diacritics (Dolmabahçe/Dolmabahce), transliteration endings
   (Zelensky/Zelenskyy/Zelenskiy), demonyms (Russian ~ Russia, Swiss ~
   Switzerland), aliases (U.S./US/USA/United States, EU/European Union,
   UN/United Nations, Kiev/Kyiv), stemming and a long-shared-prefix rule.
3. **Content coverage.**  The share of the sentence's content words (stopwords
   removed, Snowball-stemmed) found in the window is at least
   ``COVERAGE_THRESHOLD``, and every clause of the sentence with at least
   ``MIN_CLAUSE_STEMS`` content words reaches ``CLAUSE_THRESHOLD`` (so that an
   added clause such as ", including Crimea" or ", and X pledged Y" cannot
   hide behind an otherwise verbatim sentence).
4. **Negation.**  Cues: not, no, never, n't, cannot, without, neither, nor,
   none, nothing, nobody, unable, unlikely, lack, absence, "fail(ed) to"
   ("not only" / "not just" are ignored).  Each cue's scope is the next (up to
   4) content words of its clause.  A mismatch is declared when the sentence
   negates words that the window states without negating them, or when the
   window negates words that a sentence clause repeats without any negation.
   Lexical negatives in the window (rejects, opposed, unresolved, elusive...)
   count as agreeing with a negated sentence.

Content-word matching also accepts derivational variants the stemmer keeps
apart when one stem is a prefix of the other and the shorter has >= 5
letters (optimism/optimistic).  A sentence-initial capitalised word counts
as a name only with extra evidence (acronym, known country/demonym,
possessive, or first word of a multi-word name such as "Sergei Lavrov");
otherwise it is just a content word, so "Talks ..." or "Past ..." at the
start of a paraphrase is not a "missing name".  An empty sentence is
unsupported; a sentence without content words, names or numbers is
vacuously supported.

Everything is deterministic and uses the stdlib plus PyStemmer only (numpy
is not needed).  Passages and sentences are analysed once and cached: about
3,000 pairs/s cold and 5,500 pairs/s with cached passages (CPython 3.11).

Calibration (fixed odd/even split of evals/data/support_pairs.jsonl)
--------------------------------------------------------------------
Grid search over COVERAGE_THRESHOLD (0.40-0.90, step 0.02) x
CLAUSE_THRESHOLD (0.00-0.80, step 0.05) on the *odd* ids only.  Odd-split
accuracy is flat at its maximum (0.978) for coverage 0.60-0.66 and clause
coverage 0.00-0.50; lower coverage thresholds (0.40-0.46) win one more odd
pair (0.985) but would accept sentences that are 50-60% unsupported content
whenever they carry no name or number, so the search was restricted to the
0.60-0.75 prior range and the centre of the plateau was taken:

    COVERAGE_THRESHOLD = 0.63   CLAUSE_THRESHOLD = 0.25   MIN_CLAUSE_STEMS = 2

Accuracy with these values (269 pairs, 120 supported / 149 unsupported):

    all        264/269 = 0.981   (recall on supported 117/120 = 0.975,
                                  unsupported rejected 147/149 = 0.987)
    odd  (calibration) 132/135 = 0.978
    even (held out)    132/134 = 0.985
    per kind (all): verbatim 50/50, paraphrase 55/58, summary 12/12,
        swapped_number 16/16, swapped_name 34/36, shifted_date 20/20,
        added_negation 35/35, extra_claim 28/28, unrelated 8/8, partial 6/6

Caveat: the checker and the first 232 pairs were written by the same person,
so even the "held-out" half is optimistic.  A late batch (ids p233-p269, 37
pairs) was written after the checker was frozen; on it the frozen checker
scored 30/37 = 0.811.  Its errors led to three general fixes (the
sentence-initial name rule, derivational prefix matching, seasons and
"recent months" as date atoms), after which the late batch scores 35/37 and
the thresholds were re-calibrated on the odd ids as above.  Expect real
answer sentences to land nearer the late-batch figure than 0.98.

Known blind spots of a lexical checker: a role swap between two names that
both occur in the window ("Ukrainian representatives described the talks as
constructive" when the window says the Russian ones did), negation expressed
lexically in one text and syntactically in the other ("Russia did not
attend" vs "Russia's absence"), paraphrases that replace most content words
with synonyms ("took place in stages" vs "unfolded in phases"), and a
hallucinated single surname at the very start of a sentence ("Lavrov said
...") which is treated as an ordinary content word.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import Stemmer

__all__ = [
    "SupportResult",
    "supports",
    "support_details",
    "split_sentences",
    "extract_numbers",
    "COVERAGE_THRESHOLD",
    "CLAUSE_THRESHOLD",
]

# --------------------------------------------------------------------------
# Calibrated parameters (odd-id calibration split; see module docstring).
COVERAGE_THRESHOLD = 0.63
CLAUSE_THRESHOLD = 0.25
MIN_CLAUSE_STEMS = 2
MAX_WINDOW = 3
SCOPE_AFTER = 4
SCOPE_BEFORE = 2
MIN_PREFIX = 5

_STEMMER = Stemmer.Stemmer("english")

# --------------------------------------------------------------------------
# Lexicons

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at
    be because been before being below between both but by can can't cannot
    could couldn't did didn't do does doesn't doing don't down during each
    either few for from further had hadn't has hasn't have haven't having he
    her here hers herself him himself his how i if in into is isn't it it's
    its itself just me might mightn't more most must mustn't my myself no nor
    not now of off on once only or other our ours ourselves out over own same
    shall shan't she should shouldn't so some such than that the their theirs
    them themselves then there these they this those through to too under
    until up upon very was wasn't we were weren't what when where which while
    who whom why will with won't would wouldn't you your yours yourself
    yourselves may yet via per amid among amongst since though although
    however whereas whether thus hence therefore meanwhile moreover also
    according including says said say saying
    never without neither none nothing nobody nowhere unable unlikely lack
    lacks lacking lacked absence longer
    """.split()
)

# Sentence-initial capitalised words that are not names (function words,
# discourse adverbs, quantifiers).  Any stopword also qualifies.
SENTENCE_INITIAL_NON_NAMES = frozenset(
    """
    according after again although amid another any as at because before
    both but by despite during each earlier early either even every finally
    first following for furthermore given here however if in indeed instead
    later latest many meanwhile more moreover most much neither nevertheless
    new next no nonetheless not notably now often on once one only other
    overall previously recent recently several similarly since so some still
    such that the then there these they this those though thus to today two
    under unlike until what when where whether which while who why with within
    without yes yet conversely ultimately separately last
    """.split()
)

# Capitalised titles are not treated as names (they still count as content).
TITLES = frozenset(
    """
    president presidents minister ministers prime foreign defence defense
    deputy secretary chancellor general head spokesperson spokesman
    spokeswoman ambassador envoy mr mrs ms dr sir king queen pope senator
    governor mayor chief commander
    """.split()
)

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11,
    "december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH_CONTEXT = frozenset(
    "in since until by from of early late mid last next this during before after on".split()
)

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000,
          "billion": 1_000_000_000, "trillion": 1_000_000_000_000}
ORDINALS = {
    "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
    "twelfth": 12, "twentieth": 20, "thirtieth": 30, "hundredth": 100,
}
_SCALE_SUFFIX = {"k": 1_000, "mn": 1_000_000, "bn": 1_000_000_000, "tn": 1_000_000_000_000}
_VAGUE = {"dozens": "~1e1", "hundreds": "~1e2", "thousands": "~1e3",
          "millions": "~1e6", "billions": "~1e9"}
_VAGUE_OF = {("tens", "thousands"): "~1e4", ("hundreds", "thousands"): "~1e5",
             ("tens", "millions"): "~1e7", ("hundreds", "millions"): "~1e8",
             ("dozens", "thousands"): "~1e4"}
_NUMBER_WORDS = frozenset(UNITS) | frozenset(TENS) | frozenset(SCALES) | frozenset(ORDINALS) \
    | frozenset(_VAGUE) | {"tens", "percent", "pct"}
_REL_UNITS = frozenset(
    "day days week weeks weekend month months year years decade decades spring summer autumn fall winter".split()
)
_REL_MODS = frozenset("next last this past previous coming following recent".split())
SEASONS = frozenset("spring summer autumn winter".split())

# Demonyms, other names of places and spellings of people's names -> canonical key (applied to every
# lower-cased token of both texts, so it is symmetric): data, in evals/data/aliases.json.
def _load_aliases() -> tuple[dict[str, str], frozenset[str]]:
    with resources.files("evals").joinpath("data/aliases.json").open("rb") as file:
        table = json.load(file)
    aliases = {**table["demonyms"], **table["place_names"], **table["person_names"]}
    # Known names (targets of the alias table, and a few more): a sentence-initial "Russia" or
    # "Austrian" is a name even though it is capitalised only by position.
    return aliases, frozenset(aliases.values()) | frozenset(table["known_names"])


ALIASES, _KNOWN_NAMES = _load_aliases()

# Phrase-level aliases (U.S., European Union, United Nations ...) are patterns, kept here in code.
# Applied to the (original-case) normalised text.
_PHRASE_ALIASES = [
    (re.compile(r"\bU\.\s?S\.\s?A\.?(?![A-Za-z])"), "USA"),
    (re.compile(r"\bU\.\s?S\.(?![A-Za-z])"), "USA"),
    (re.compile(r"\bUS\b"), "USA"),
    (re.compile(r"\b(?:the\s+)?United\s+States(?:\s+of\s+America)?\b", re.I), "USA"),
    (re.compile(r"\bU\.\s?K\.(?![A-Za-z])"), "UK"),
    (re.compile(r"\bUnited\s+Kingdom\b", re.I), "UK"),
    (re.compile(r"\bE\.\s?U\.(?![A-Za-z])"), "EU"),
    (re.compile(r"\bEuropean\s+Union\b", re.I), "EU"),
    (re.compile(r"\bU\.\s?N\.(?![A-Za-z])"), "UN"),
    (re.compile(r"\bUnited\s+Nations\b", re.I), "UN"),
    (re.compile(r"\bper\s+cent\b", re.I), "percent"),
]

STRONG_CUES = frozenset(
    "not no never without cannot neither nor none nothing nobody nowhere unable unlikely "
    "lack lacks lacking lacked absence".split()
)
_FAIL = frozenset("fail fails failed failing".split())
# Stems of lexical negatives: agree with a negated sentence, never trigger.
WEAK_NEG_STEMS = frozenset(
    "reject refus deni oppos unresolv elus unaccept imposs".split()
)
CLAUSE_WORDS = frozenset(
    "but while whereas although though however because including which".split()
)

# --------------------------------------------------------------------------
# Normalisation and tokenisation

_CHAR_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u2012": " - ", "\u2013": " - ", "\u2014": " - ", "\u2015": " - ",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ", "\u200b": "",
    "\u2026": "...",
})


def normalize_text(text: str) -> str:
    """Straighten quotes, space out dashes, drop diacritics, apply aliases."""
    text = text.translate(_CHAR_MAP)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    for pattern, repl in _PHRASE_ALIASES:
        text = pattern.sub(repl, text)
    return text


_TOKEN_RE = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<suf>%|st\b|nd\b|rd\b|th\b|s\b|bn\b|mn\b|tn\b|k\b)?"
    r"|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*'?)"
    r"|(?P<punct>[,;:()\[\]!?]|\s-\s|\.(?=\s|$|\"))"
)


@dataclass(frozen=True)
class _Tok:
    kind: str          # "num" | "word" | "punct"
    text: str          # surface form (normalised)
    low: str           # lower-cased, possessive stripped (words)
    value: float | None = None
    suffix: str = ""


def _strip_possessive(w: str) -> str:
    if w.endswith("'s"):
        return w[:-2]
    if w.endswith("'"):
        return w[:-1]
    return w


def _tokenize(norm: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _TOKEN_RE.finditer(norm):
        if m.group("num"):
            raw = m.group("num")
            out.append(_Tok("num", raw, raw, float(raw.replace(",", "")), (m.group("suf") or "").lower()))
        elif m.group("word"):
            w = m.group("word")
            low = w.lower()
            if not (low.endswith("n't") or low == "cannot"):
                low = _strip_possessive(low)
            out.append(_Tok("word", w, low))
        else:
            out.append(_Tok("punct", m.group("punct").strip() or "-", ""))
    return out


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def _canon(low: str) -> str:
    """Canonical key for a lower-cased word: aliases + transliteration endings."""
    low = ALIASES.get(low, low)
    if len(low) > 4 and low[-2:] in ("yy", "iy", "ii", "yi"):
        low = low[:-2] + "y"
        low = ALIASES.get(low, low)
    return low


def _key_stem(low: str) -> str:
    return _stem(_canon(low))


# --------------------------------------------------------------------------
# Numbers and dates

def _fmt(v: float) -> str:
    if v == int(v):
        return str(int(v))
    return repr(round(v, 6))


def _number_atoms(toks: list[_Tok]) -> tuple[set[str], set[str]]:
    """Return (required atoms, optional atoms) for a token list."""
    atoms: set[str] = set()
    optional: set[str] = set()
    n = len(toks)
    words = [t.low if t.kind == "word" else None for t in toks]
    i = 0
    while i < n:
        t = toks[i]
        w = words[i]
        nxt = words[i + 1] if i + 1 < n else None
        if t.kind == "num":
            v = t.value
            if t.suffix in _SCALE_SUFFIX and v is not None:
                v *= _SCALE_SUFFIX[t.suffix]
            scale = SCALES.get(nxt or "")
            if scale and v is not None:
                v *= scale
                i += 1
            if t.suffix == "%" or (i + 1 < n and words[i + 1] in ("percent", "pct")):
                atoms.add(_fmt(v) + "%")
            elif t.suffix == "s" and v == int(v):
                atoms.add(_fmt(v) + "s")          # decades: 1990s
            else:
                atoms.add(_fmt(v))
            i += 1
            continue
        if w is None:
            i += 1
            continue
        # vague magnitudes: "tens of thousands", "millions"
        if w in ("tens", "hundreds", "dozens") and i + 2 < n and words[i + 1] == "of" \
                and (w, words[i + 2]) in _VAGUE_OF:
            atoms.add(_VAGUE_OF[(w, words[i + 2])])
            i += 3
            continue
        if w in _VAGUE:
            atoms.add(_VAGUE[w])
            i += 1
            continue
        if w in ORDINALS:
            atoms.add(str(ORDINALS[w]))
            i += 1
            continue
        # months (capitalised; "May" needs date context)
        if w in MONTHS and t.text[0].isupper():
            prev_w = words[i - 1] if i > 0 else None
            prev_num = i > 0 and toks[i - 1].kind == "num"
            next_num = i + 1 < n and toks[i + 1].kind == "num"
            if w != "may" or prev_num or next_num or prev_w in _MONTH_CONTEXT:
                atoms.add(f"month:{MONTHS[w]}")
            i += 1
            continue
        # relative dates: "next week", "this year", "today"
        if w in _REL_MODS and nxt in _REL_UNITS:
            unit = nxt.rstrip("s") if nxt not in ("days",) else "day"
            atoms.add(f"rel:{w}:{unit}")
            i += 2
            continue
        if w in ("yesterday", "today", "tomorrow", "tonight"):
            atoms.add(f"rel:{w}")
            i += 1
            continue
        if w in SEASONS:
            atoms.add(f"season:{w}")
            i += 1
            continue
        # spelled-out cardinals, optionally "a thousand"
        start_a = w == "a" and nxt in SCALES
        if w in UNITS or w in TENS or w in SCALES or start_a:
            j = i + 1 if start_a else i
            total, current, used = 0, 0, 0
            while j < n and words[j] is not None:
                x = words[j]
                if x in UNITS or x in TENS:
                    current += UNITS.get(x, 0) + TENS.get(x, 0)
                elif x == "hundred":
                    current = max(current, 1) * 100
                elif x in SCALES:
                    total += max(current, 1) * SCALES[x]
                    current = 0
                elif x == "and" and used and j + 1 < n and (words[j + 1] in UNITS or words[j + 1] in TENS):
                    pass
                else:
                    break
                used += 1
                j += 1
            value = total + current
            if j + 2 < n and words[j] == "and" and words[j + 1] == "a" and words[j + 2] == "half":
                value += 0.5
                j += 3
            if j < n and words[j] in ("percent", "pct"):
                atoms.add(_fmt(value) + "%")
            elif used == 1 and w == "one":
                optional.add("1")     # "one of the ..." is not a numeric claim
            else:
                atoms.add(_fmt(value))
            i = j
            continue
        i += 1
    # "20%" also counts as the bare number 20 on the window side
    return atoms, optional


def extract_numbers(text: str) -> set[str]:
    """Normalised number/date atoms that a sentence would be required to match."""
    req, _ = _number_atoms(_tokenize(normalize_text(text)))
    return req


# --------------------------------------------------------------------------
# Per-text analysis

@dataclass(frozen=True)
class _Cue:
    scope: frozenset[str]


@dataclass(frozen=True)
class _Clause:
    stems: frozenset[str]         # content stems
    cues: tuple[_Cue, ...]
    weak: frozenset[str]          # weak negative stems present


@dataclass(frozen=True)
class _Analysis:
    content: frozenset[str]       # content stems (coverage numerator/denominator)
    all_stems: frozenset[str]     # every word stem (window side matching)
    keys: frozenset[str]          # canonical lower-case keys of every word
    names: tuple[str, ...]        # required names (surface, for reporting)
    name_keys: tuple[str, ...]
    numbers: frozenset[str]       # required number atoms
    numbers_all: frozenset[str]   # required + optional (+ bare number of %)
    clauses: tuple[_Clause, ...]


def _is_cue(toks: list[_Tok], i: int) -> int:
    """Return the number of tokens the negation cue at i spans (0: no cue)."""
    t = toks[i]
    if t.kind != "word":
        return 0
    w = t.low
    nxt = toks[i + 1].low if i + 1 < len(toks) and toks[i + 1].kind == "word" else ""
    if w == "not" and nxt in ("only", "just", "merely", "least"):
        return 0
    if w == "no" and nxt in ("doubt",):
        return 0
    if w in STRONG_CUES or w.endswith("n't"):
        return 1
    if w in _FAIL and nxt == "to":
        return 2
    return 0


def _content_stem(t: _Tok) -> str | None:
    if t.kind != "word":
        return None
    w = t.low
    if w in STOPWORDS or w.endswith("n't") or w in _NUMBER_WORDS or w in SEASONS or len(w) < 2:
        return None
    if w in MONTHS and t.text[0].isupper():
        return None
    c = _canon(w)
    if c in STOPWORDS:
        return None
    return _stem(c)


def _clauses(toks: list[_Tok]) -> tuple[_Clause, ...]:
    # split into clause token lists
    groups: list[list[_Tok]] = [[]]
    for t in toks:
        if t.kind == "punct" or (t.kind == "word" and t.low in CLAUSE_WORDS):
            if groups[-1]:
                groups.append([])
            continue
        groups[-1].append(t)
    out = []
    for g in groups:
        if not g:
            continue
        stems = [_content_stem(t) for t in g]
        cues = []
        i = 0
        while i < len(g):
            span = _is_cue(g, i)
            if not span:
                i += 1
                continue
            after: list[str] = []
            j = i + span
            while j < len(g) and len(after) < SCOPE_AFTER:
                if _is_cue(g, j):
                    break
                if stems[j]:
                    after.append(stems[j])
                j += 1
            if not after:
                before = [s for s in stems[:i] if s][-SCOPE_BEFORE:]
                after = before
            cues.append(_Cue(frozenset(after)))
            i += span
        weak = frozenset(s for s in stems if s in WEAK_NEG_STEMS)
        out.append(_Clause(frozenset(s for s in stems if s), tuple(cues), weak))
    return tuple(out)


def _first_word_index(toks: list[_Tok]) -> int:
    for i, t in enumerate(toks):
        if t.kind == "word":
            return i
        if t.kind == "num":
            return -1
    return -1


@lru_cache(maxsize=8192)
def _analyze(text: str) -> _Analysis:
    norm = normalize_text(text)
    toks = _tokenize(norm)
    req, opt = _number_atoms(toks)
    allnums = set(req) | set(opt)
    allnums |= {a[:-1] for a in req if a.endswith("%")}

    content = []
    all_stems = set()
    keys = set()
    names: list[str] = []
    name_keys: list[str] = []
    first = _first_word_index(toks)
    for i, t in enumerate(toks):
        if t.kind != "word":
            continue
        c = _canon(t.low)
        keys.add(c)
        all_stems.add(_stem(c))
        s = _content_stem(t)
        if s:
            content.append(s)
        # names
        if not t.text[0].isupper():
            continue
        low = t.low
        if low in STOPWORDS or c in STOPWORDS or low in TITLES or low in MONTHS \
                or low in _NUMBER_WORDS or low.endswith("n't"):
            continue
        if i == first:
            # Capitalisation at the start of a sentence is no evidence of a
            # name: require other evidence (acronym, known place/demonym,
            # possessive, or the first word of a multi-word name).
            if low in SENTENCE_INITIAL_NON_NAMES:
                continue
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            multi = (nxt is not None and nxt.kind == "word" and nxt.text[0].isupper()
                     and nxt.low not in STOPWORDS)
            if not (multi or (t.text.isupper() and len(t.text) > 1)
                    or low in ALIASES or c in _KNOWN_NAMES or t.text.endswith(("'s", "'"))):
                continue
        if c not in name_keys:
            names.append(_strip_possessive(t.text))
            name_keys.append(c)
    return _Analysis(
        content=frozenset(content),
        all_stems=frozenset(all_stems),
        keys=frozenset(keys),
        names=tuple(names),
        name_keys=tuple(name_keys),
        numbers=frozenset(req),
        numbers_all=frozenset(allnums),
        clauses=_clauses(toks),
    )


# --------------------------------------------------------------------------
# Passage sentence splitting (on the original text, to keep char offsets)

_ABBREV = frozenset(
    "mr mrs ms dr st jr sr prof gen col lt sgt gov sen rep vs etc inc ltd co corp no approx "
    "jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k u.n e.u".split()
)
_BOUNDARY_RE = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)|\n\s*")


def split_sentences(passage: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of ``passage``.

    Splits after . ! ? (plus closing quotes/brackets) followed by whitespace
    and at line breaks; abbreviations (U.S., Mr., e.g.) and initials do not
    end a sentence.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(passage):
        end = m.end()
        if not m.group().startswith("\n"):
            before = passage[start:m.start() + 1]
            wm = re.search(r"([A-Za-z.]+)\.$", before)
            if wm:
                word = wm.group(1).lower().rstrip(".")
                if word in _ABBREV or len(word) == 1 or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
                    continue
            # next visible char should start a sentence
            rest = passage[end:].lstrip()
            if rest and rest[0].islower():
                continue
        seg = passage[start:end]
        if seg.strip():
            s = start + (len(seg) - len(seg.lstrip()))
            e = start + len(seg.rstrip())
            spans.append((s, e))
        start = end
    seg = passage[start:]
    if seg.strip():
        s = start + (len(seg) - len(seg.lstrip()))
        e = start + len(seg.rstrip())
        spans.append((s, e))
    return spans


@lru_cache(maxsize=4096)
def _passage(passage: str) -> tuple[tuple[tuple[int, int], ...], tuple[_Analysis, ...]]:
    spans = split_sentences(passage) or [(0, len(passage))]
    return tuple(spans), tuple(_analyze(passage[s:e]) for s, e in spans)


# --------------------------------------------------------------------------
# Checks

@dataclass(frozen=True)
class SupportResult:
    """Outcome of :func:`support_details` for the best-matching window."""

    supported: bool
    coverage: float
    missing_numbers: tuple[str, ...]
    missing_names: tuple[str, ...]
    negation_mismatch: bool
    window: tuple[int, int]
    min_clause_coverage: float = field(default=1.0)


def _name_found(key: str, win_keys: frozenset[str], win_stems: frozenset[str],
                win_cap_keys: frozenset[str]) -> bool:
    if key in win_keys or _stem(key) in win_stems:
        return True
    # long shared prefix: Ukraine ~ Ukrainian-s, Zelensk(y|iy) variants
    for k in win_cap_keys:
        m = min(len(k), len(key))
        if m < 5:
            continue
        p = 0
        while p < m and k[p] == key[p]:
            p += 1
        if p >= 5 and p >= m - 1:
            return True
    return False


def _negation_mismatch(sent: _Analysis, clauses: list[_Clause],
                       win_stems: frozenset[str]) -> bool:
    neg_w: set[str] = set()
    for c in clauses:
        for cue in c.cues:
            neg_w |= cue.scope
    sent_all = sent.content
    # (a) the sentence negates content the window states positively
    for sc in sent.clauses:
        for cue in sc.cues:
            covered = cue.scope & win_stems
            if not covered or covered & neg_w:
                continue
            agree = False
            for wc in clauses:
                if wc.stems & covered and (wc.weak - sent_all):
                    agree = True
                    break
            if not agree:
                return True
    # (b) the window negates content a sentence clause repeats un-negated
    for wc in clauses:
        for cue in wc.cues:
            scope = cue.scope
            if not scope:
                continue
            need = min(2, len(scope))
            for sc in sent.clauses:
                if len(scope & sc.stems) >= need and not sc.cues and not sc.weak:
                    return True
    return False


def _covered(stems: frozenset[str], win_stems: frozenset[str]) -> frozenset[str]:
    """Sentence stems found in the window: exact stem match, or one stem is a
    prefix of the other and the shorter has at least ``MIN_PREFIX`` letters
    (derivational variants the stemmer keeps apart: optimism/optimistic,
    diplomat/diplomacy)."""
    hit = stems & win_stems
    rest = [s for s in stems - hit if len(s) >= MIN_PREFIX]
    if not rest:
        return hit
    long_w = [w for w in win_stems if len(w) >= MIN_PREFIX]
    extra = {s for s in rest if any(w.startswith(s) or s.startswith(w) for w in long_w)}
    return hit | extra


def _evaluate(sent: _Analysis, wins: tuple[_Analysis, ...]) -> tuple:
    win_stems = frozenset().union(*(w.all_stems for w in wins))
    win_keys = frozenset().union(*(w.keys for w in wins))
    win_nums = frozenset().union(*(w.numbers_all for w in wins))
    win_cap = frozenset().union(*(w.name_keys for w in wins)) | win_keys
    clauses = [c for w in wins for c in w.clauses]

    missing_numbers = tuple(sorted(a for a in sent.numbers if a not in win_nums))
    missing_names = tuple(
        name for name, key in zip(sent.names, sent.name_keys)
        if not _name_found(key, win_keys, win_stems, win_cap)
    )
    covered = _covered(sent.content, win_stems)
    if sent.content:
        coverage = len(covered) / len(sent.content)
    else:
        coverage = 1.0
    clause_cov = 1.0
    for sc in sent.clauses:
        if len(sc.stems) >= MIN_CLAUSE_STEMS:
            clause_cov = min(clause_cov, len(sc.stems & covered) / len(sc.stems))
    neg = _negation_mismatch(sent, clauses, win_stems)
    ok = (not missing_numbers and not missing_names and not neg
          and coverage >= COVERAGE_THRESHOLD and clause_cov >= CLAUSE_THRESHOLD)
    return ok, coverage, clause_cov, missing_numbers, missing_names, neg


def support_details(sentence: str, passage: str) -> SupportResult:
    """Judge ``sentence`` against every 1-3 sentence window of ``passage``.

    Returns the result for the best window: a supporting window if any (the
    one with the highest coverage, then the shortest, then the earliest),
    otherwise the window with the fewest failed checks and highest coverage.
    """
    if not sentence.strip():
        return SupportResult(False, 0.0, (), (), False, (0, 0), 0.0)
    sent = _analyze(sentence)
    spans, analyses = _passage(passage)
    best_key = None
    best = None
    n = len(spans)
    for i in range(n):
        for width in range(1, MAX_WINDOW + 1):
            j = i + width
            if j > n:
                break
            ok, cov, ccov, mnum, mname, neg = _evaluate(sent, analyses[i:j])
            fails = len(mnum) + len(mname) + int(neg) + int(cov < COVERAGE_THRESHOLD) \
                + int(ccov < CLAUSE_THRESHOLD)
            key = (ok, -fails, round(cov, 9), round(ccov, 9), -width, -i)
            if best_key is None or key > best_key:
                best_key = key
                best = SupportResult(
                    supported=ok,
                    coverage=round(cov, 4),
                    missing_numbers=mnum,
                    missing_names=mname,
                    negation_mismatch=neg,
                    window=(spans[i][0], spans[j - 1][1]),
                    min_clause_coverage=round(ccov, 4),
                )
    assert best is not None
    return best


def supports(sentence: str, passage: str) -> bool:
    """True when ``sentence`` is supported by some 1-3 sentence window of ``passage``."""
    return support_details(sentence, passage).supported
