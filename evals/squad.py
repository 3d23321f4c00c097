"""The SQuAD 2.0 suite: the dev set's "Normans" article as gold questions in the project's format.

Its paragraphs become one article (the title on the first line, a blank line between paragraphs;
cleaning keeps every paragraph verbatim). Each question becomes a gold record with ``answers``
(SQuAD's gold answers, scored by :func:`evals.judge.has_gold_span`) and, as evidence, the sentence
of its paragraph that holds each gold answer (for citation correctness and retrieval recall).
Unanswerable questions keep SQuAD's ``plausible_answers`` (the near miss the text offers).
The questions are split into a development and a test half by the seeds' rule (fixed on
2026-11-30, before any answering code was tuned on SQuAD): within the answerable and within the
unanswerable questions, sorted by the SHA-256 of their id, they alternate dev, test, dev, ...
Tune on ``dev`` only.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from rag import public_data

ARTICLE_NAME = "normans.txt"

# A sentence ends at . ! or ? (optionally closed by a quote or bracket) before a space and a capital
# letter, digit or opening quote: plain and predictable, which is all the evidence span needs.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(])")


def source() -> Path:
    """The suite's SQuAD file in the public data folder (``rag.public_data``), or ``DataMissing``."""
    return public_data.require("squad-normans")


def load(path: Path | None = None) -> tuple[str, str, list[dict[str, Any]]]:
    """(title, article text, gold questions) of the first article in a SQuAD 2.0 file (by default
    the suite's own, :func:`source`)."""
    data = json.loads(Path(path or source()).read_text(encoding="utf-8"))["data"][0]
    paragraphs = [p["context"] for p in data["paragraphs"]]
    text = data["title"] + "\n\n" + "\n\n".join(paragraphs)
    questions = []
    for paragraph in data["paragraphs"]:
        for qa in paragraph["qas"]:
            answerable = not qa.get("is_impossible", False)
            answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
            evidence = [{"doc": ARTICLE_NAME, "quote": quote}
                        for quote in dict.fromkeys(_sentence_at(paragraph["context"], a["answer_start"], len(a["text"]))
                                                   for a in qa["answers"])]
            questions.append({
                "id": qa["id"], "question": qa["question"].strip(),
                "type": "answerable" if answerable else "unanswerable", "answerable": answerable,
                "gold_answer": answers[0] if answers else "(no answer in the article)",
                "answers": answers, "key_facts": [], "evidence": evidence, "forbidden": [],
                "plausible_answers": list(dict.fromkeys(a["text"] for a in qa.get("plausible_answers", []))),
            })
    assign_split(questions)
    return data["title"], text, questions


def assign_split(questions: list[dict[str, Any]]) -> None:
    """Set each question's ``split`` by the frozen rule: per ``type`` (answerable, unanswerable),
    ordered by the SHA-256 of the id, alternating dev, test, dev, ..."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for question in questions:
        by_type.setdefault(question["type"], []).append(question)
    for group in by_type.values():
        group.sort(key=lambda q: hashlib.sha256(q["id"].encode()).hexdigest())
        for i, question in enumerate(group):
            question["split"] = "dev" if i % 2 == 0 else "test"


def write_article(folder: Path, path: Path | None = None) -> Path:
    """Write the article into ``folder`` (created) as :data:`ARTICLE_NAME`; returns the folder."""
    _, text, _ = load(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ARTICLE_NAME).write_text(text + "\n", encoding="utf-8")
    return folder


def sentences(paragraph: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a paragraph."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(paragraph):
        spans.append((start, match.start() + len(match.group(0).rstrip())))
        start = match.end()
    spans.append((start, len(paragraph)))
    return spans


def _sentence_at(paragraph: str, start: int, length: int) -> str:
    """The sentence(s) of ``paragraph`` covering the answer span [start, start + length)."""
    end = start + max(length, 1)
    covering = [(s, e) for s, e in sentences(paragraph) if s < end and e > start]
    return paragraph[covering[0][0]:covering[-1][1]].strip()
