"""Integrity checks for the gold evaluation set (evals/data/questions.jsonl).

Each check reports the offending question id(s) and the problem so a broken
record can be fixed directly. Only the standard library and pytest are used.
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS_PATH = ROOT / "evals" / "data" / "questions.jsonl"
SEEDS_DIR = ROOT / "seeds"

ALLOWED_TYPES = {
    "factoid",
    "list",
    "numeric",
    "temporal",
    "multi-article",
    "conflicting-sources",
    "follow-up",
    "false-premise",
    "unanswerable",
}

MIN_TYPE_COUNTS = {
    "factoid": 12,
    "list": 5,
    "numeric": 6,
    "temporal": 6,
    "multi-article": 6,
    "conflicting-sources": 4,
    "follow-up": 4,
    "false-premise": 3,
    "unanswerable": 11,
}

MIN_QUESTIONS = 60
MIN_UNANSWERABLE_SHARE = 0.15

REQUIRED_FIELDS = {
    "id": str,
    "question": str,
    "type": str,
    "answerable": bool,
    "gold_answer": str,
    "key_facts": list,
    "evidence": list,
    "forbidden": list,
    "split": str,
}

# Page furniture / stray chatbot text that must never be used as evidence.
FURNITURE_MARKERS = [
    "sign in to comment",
    "about the creator",
    "all rights reserved",
    "find us on social media",
    "if you would like, i can",
    "be the first to",
    "leave a reply",
    "your email address",
    "drawn from your sources",
    "reader insights",
    "the swamp logo",
]

EMOJI_RE = re.compile(
    "["
    "\U0001F000-\U0001FAFF"  # pictographs, emoticons, transport, symbols
    "\u2600-\u27BF"  # misc symbols, dingbats
    "\u2300-\u23FF"  # misc technical (hourglass etc.)
    "\u2B00-\u2BFF"  # arrows / stars
    "\uFE0F"  # emoji variation selector
    "\u200D"  # zero-width joiner
    "]"
)


def _norm(text):
    return " ".join(text.lower().split())


def _load_questions():
    assert QUESTIONS_PATH.is_file(), f"missing gold file {QUESTIONS_PATH}"
    records = []
    with QUESTIONS_PATH.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:  # pragma: no cover - reported via assert
                pytest.fail(f"line {lineno}: invalid JSON ({exc})")
            assert isinstance(obj, dict), f"line {lineno}: record is not a JSON object"
            records.append(obj)
    return records


@pytest.fixture(scope="module")
def questions():
    return _load_questions()


@pytest.fixture(scope="module")
def seeds():
    assert SEEDS_DIR.is_dir(), f"missing seeds directory {SEEDS_DIR}"
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))}
    assert texts, f"no seed files in {SEEDS_DIR}"
    return texts


def _qid(q):
    return q.get("id", "<no id>")


# ------------------------------------------------------------------ structure


def test_file_parses_and_has_enough_questions(questions):
    assert len(questions) >= MIN_QUESTIONS, (
        f"only {len(questions)} questions, need at least {MIN_QUESTIONS}"
    )


def test_required_fields_present_with_types(questions):
    problems = []
    for q in questions:
        for field, ftype in REQUIRED_FIELDS.items():
            if field not in q:
                problems.append(f"{_qid(q)}: missing field '{field}'")
            elif not isinstance(q[field], ftype):
                problems.append(
                    f"{_qid(q)}: field '{field}' should be {ftype.__name__}, got {type(q[field]).__name__}"
                )
        for field in ("question", "gold_answer"):
            if isinstance(q.get(field), str) and not q[field].strip():
                problems.append(f"{_qid(q)}: field '{field}' is empty")
        if isinstance(q.get("forbidden"), list):
            for f in q["forbidden"]:
                if not isinstance(f, str) or not f.strip():
                    problems.append(f"{_qid(q)}: forbidden entry {f!r} is not a non-empty string")
        if "history" in q and q.get("type") != "follow-up":
            problems.append(f"{_qid(q)}: has 'history' but type is {q.get('type')!r}, not follow-up")
    assert not problems, "\n".join(problems)


def test_ids_unique_and_sequential(questions):
    ids = [q.get("id") for q in questions]
    dupes = [i for i, c in Counter(ids).items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    problems = []
    for n, q in enumerate(questions, 1):
        expected = f"q{n:03d}"
        if q.get("id") != expected:
            problems.append(f"{_qid(q)}: expected id {expected} at position {n}")
    assert not problems, "\n".join(problems)


def test_questions_unique(questions):
    seen = {}
    problems = []
    for q in questions:
        key = _norm(q.get("question", ""))
        if key in seen:
            problems.append(f"{_qid(q)}: duplicate question text of {seen[key]}")
        else:
            seen[key] = _qid(q)
    assert not problems, "\n".join(problems)


def test_types_allowed(questions):
    problems = [
        f"{_qid(q)}: type {q.get('type')!r} not in allowed set"
        for q in questions
        if q.get("type") not in ALLOWED_TYPES
    ]
    assert not problems, "\n".join(problems)


def test_type_minimum_counts(questions):
    counts = Counter(q.get("type") for q in questions)
    problems = [
        f"type {t!r}: {counts.get(t, 0)} questions, need at least {n}"
        for t, n in MIN_TYPE_COUNTS.items()
        if counts.get(t, 0) < n
    ]
    assert not problems, "\n".join(problems)


def test_unanswerable_share(questions):
    n_unans = sum(1 for q in questions if q.get("type") == "unanswerable")
    share = n_unans / len(questions)
    assert share >= MIN_UNANSWERABLE_SHARE, (
        f"unanswerable share {share:.3f} ({n_unans}/{len(questions)}) below {MIN_UNANSWERABLE_SHARE}"
    )


def test_unanswerable_type_is_not_answerable(questions):
    problems = [
        f"{_qid(q)}: type unanswerable but answerable is {q.get('answerable')!r}"
        for q in questions
        if q.get("type") == "unanswerable" and q.get("answerable") is not False
    ]
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ evidence


def test_evidence_docs_exist_and_quotes_verbatim(questions, seeds):
    problems = []
    for q in questions:
        for k, ev in enumerate(q.get("evidence", [])):
            where = f"{_qid(q)} evidence[{k}]"
            if not isinstance(ev, dict) or set(ev) != {"doc", "quote"}:
                problems.append(f"{where}: must be an object with exactly 'doc' and 'quote'")
                continue
            doc, quote = ev["doc"], ev["quote"]
            if doc not in seeds:
                problems.append(f"{where}: unknown seed doc {doc!r}")
                continue
            if not isinstance(quote, str) or len(quote.strip()) < 10:
                problems.append(f"{where}: quote too short or not a string: {quote!r}")
                continue
            if "\n" in quote or "\r" in quote:
                problems.append(f"{where}: quote spans multiple lines")
                continue
            if quote not in seeds[doc]:
                problems.append(f"{where}: quote not found verbatim in {doc}: {quote[:80]!r}")
                continue
            if not any(quote in line for line in seeds[doc].splitlines()):
                problems.append(f"{where}: quote not contained in a single line of {doc}")
    assert not problems, "\n".join(problems)


def test_evidence_quotes_have_no_emoji_or_furniture(questions):
    problems = []
    for q in questions:
        for k, ev in enumerate(q.get("evidence", [])):
            quote = ev.get("quote", "") if isinstance(ev, dict) else ""
            if EMOJI_RE.search(quote):
                problems.append(f"{_qid(q)} evidence[{k}]: quote contains emoji")
            low = quote.lower()
            for marker in FURNITURE_MARKERS:
                if marker in low:
                    problems.append(
                        f"{_qid(q)} evidence[{k}]: quote looks like page furniture ({marker!r})"
                    )
    assert not problems, "\n".join(problems)


def test_key_facts_well_formed(questions):
    problems = []
    for q in questions:
        kf = q.get("key_facts", [])
        for g, group in enumerate(kf):
            if not isinstance(group, list) or not group:
                problems.append(f"{_qid(q)}: key_facts[{g}] must be a non-empty list of aliases")
                continue
            for alias in group:
                if not isinstance(alias, str) or not alias.strip():
                    problems.append(f"{_qid(q)}: key_facts[{g}] has empty/non-string alias {alias!r}")
    assert not problems, "\n".join(problems)


def test_key_facts_supported_by_evidence(questions):
    problems = []
    for q in questions:
        evidence_text = _norm(
            " ".join(ev.get("quote", "") for ev in q.get("evidence", []) if isinstance(ev, dict))
        )
        for g, group in enumerate(q.get("key_facts", [])):
            if not isinstance(group, list):
                continue
            if not any(isinstance(a, str) and _norm(a) in evidence_text for a in group):
                problems.append(
                    f"{_qid(q)}: key_facts[{g}] {group} has no alias in the evidence quotes"
                )
    assert not problems, "\n".join(problems)


def test_key_facts_not_forbidden(questions):
    """A required fact must never also be a forbidden string."""
    problems = []
    for q in questions:
        forbidden = [_norm(f) for f in q.get("forbidden", []) if isinstance(f, str)]
        for g, group in enumerate(q.get("key_facts", [])):
            for alias in group if isinstance(group, list) else []:
                if isinstance(alias, str) and any(f in _norm(alias) for f in forbidden):
                    problems.append(f"{_qid(q)}: key_facts[{g}] alias {alias!r} contains a forbidden string")
    assert not problems, "\n".join(problems)


def test_gold_answer_avoids_forbidden(questions):
    problems = []
    for q in questions:
        gold = _norm(q.get("gold_answer", ""))
        for f in q.get("forbidden", []):
            if isinstance(f, str) and _norm(f) in gold:
                problems.append(f"{_qid(q)}: gold_answer contains forbidden string {f!r}")
    assert not problems, "\n".join(problems)


def test_answerable_have_facts_and_evidence_unanswerable_have_none(questions):
    problems = []
    for q in questions:
        kf, ev = q.get("key_facts", []), q.get("evidence", [])
        if q.get("answerable") is True:
            if len(kf) < 1:
                problems.append(f"{_qid(q)}: answerable but has no key_facts")
            if len(ev) < 1:
                problems.append(f"{_qid(q)}: answerable but has no evidence")
        elif q.get("answerable") is False:
            if kf:
                problems.append(f"{_qid(q)}: not answerable but has key_facts")
            if ev:
                problems.append(f"{_qid(q)}: not answerable but has evidence")
    assert not problems, "\n".join(problems)


def test_multi_source_types_cite_two_articles(questions):
    problems = []
    for q in questions:
        if q.get("type") in {"multi-article", "conflicting-sources"}:
            docs = {ev.get("doc") for ev in q.get("evidence", []) if isinstance(ev, dict)}
            if len(docs) < 2:
                problems.append(
                    f"{_qid(q)}: type {q.get('type')} needs evidence from >= 2 articles, got {sorted(docs)}"
                )
    assert not problems, "\n".join(problems)


def test_all_seed_articles_covered(questions, seeds):
    cited = {ev.get("doc") for q in questions for ev in q.get("evidence", []) if isinstance(ev, dict)}
    missing = sorted(set(seeds) - cited)
    assert not missing, f"seed articles never cited as evidence: {missing}"


# ------------------------------------------------------------------ follow-ups


def test_follow_ups_have_valid_history(questions):
    position = {}
    for n, q in enumerate(questions):
        position.setdefault(_norm(q.get("question", "")), n)
    problems = []
    for n, q in enumerate(questions):
        if q.get("type") != "follow-up":
            continue
        hist = q.get("history")
        if not isinstance(hist, list) or not hist:
            problems.append(f"{_qid(q)}: follow-up without a non-empty 'history' list")
            continue
        for h in hist:
            if not isinstance(h, str) or not h.strip():
                problems.append(f"{_qid(q)}: history entry {h!r} is not a non-empty string")
                continue
            pos = position.get(_norm(h))
            if pos is None:
                problems.append(f"{_qid(q)}: history question not found in file: {h!r}")
            elif pos >= n:
                problems.append(f"{_qid(q)}: history question {h!r} does not come before the follow-up")
    assert not problems, "\n".join(problems)


def test_follow_up_pairs_minimum(questions):
    n = sum(1 for q in questions if q.get("type") == "follow-up" and q.get("history"))
    assert n >= MIN_TYPE_COUNTS["follow-up"], f"only {n} follow-up questions with history"


def test_split_is_the_frozen_rule(questions):
    """dev/test was fixed once, by the rule in docs/evaluation.md: within each question type, questions
    sorted by the SHA-256 of their id alternate dev, test, dev, ... It must never be re-drawn."""
    import hashlib
    from collections import defaultdict

    by_type = defaultdict(list)
    for q in questions:
        by_type[q["type"]].append(q)
    for group in by_type.values():
        group.sort(key=lambda q: hashlib.sha256(q["id"].encode()).hexdigest())
        for i, q in enumerate(group):
            assert q["split"] == ("dev" if i % 2 == 0 else "test"), _qid(q)
