"""Ingest: files to cleaned articles to passages to vectors in the store, incrementally.

An article's identity is its file's absolute path (:func:`index.loading.article_key`), whatever the
working directory it is named from; its source, what answers show, is that path relative to the
working directory when inside it. Articles indexed before identity was absolute keep their ids
(the hash of that relative source): a file is matched to them by where their source says it is.
Its version is the hash of its cleaned text. A file
read exactly as when it was indexed (same text, same cleaner version) is skipped without even
being cleaned; an article whose version is already stored is skipped without loading the
embedding model; a changed one is replaced; one whose text is already stored under another
source is reported as a duplicate; with ``prune``, stored articles whose files are gone are
removed. Every problem with a file is reported and the rest of the ingest goes on.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Callable, Iterator, Sequence

from index.chunking import Chunk, chunk
from index.cleaning import CLEANER_VERSION, clean
from index.embedding import Embedder
from index.errors import InputError, StoreError
from index.loading import Problem, RawFile, article_key, discover, read_file
from index.records import ArticleRecord, Manifest, Repair, headed
from index.store import Store


@dataclass(frozen=True)
class ChunkSettings:
    sentences: int = 4
    overlap: int = 1
    max_chars: int = 900


@dataclass
class IngestReport:
    """What an ingest did; :meth:`summary` is what ``rag ingest`` prints."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    repaired: list[Repair] = field(default_factory=list)  # writes a killed ingest left, finished or undone
    notes: list[str] = field(default_factory=list)  # what else the user should know
    passages_embedded: int = 0
    on_article: Callable[[str, str], None] | None = field(default=None, repr=False, compare=False)

    def record(self, action: str, source: str, reason: str = "") -> None:
        """Count ``source`` under ``action`` (added, updated, unchanged, removed, skipped)."""
        if action == "skipped":
            self.skipped.append(Problem(source, reason))
        else:
            getattr(self, action).append(source)
        if self.on_article is not None:
            self.on_article(action, f"{source}: {reason}" if reason else source)

    def summary(self) -> str:
        lines = [
            f"  added      {len(self.added):>5}",
            f"  updated    {len(self.updated):>5}",
            f"  unchanged  {len(self.unchanged):>5}",
            f"  removed    {len(self.removed):>5}",
            f"  skipped    {len(self.skipped):>5}",
        ]
        lines += [f"    {problem.source}: {problem.reason}" for problem in self.skipped]
        lines.append(f"  passages embedded: {self.passages_embedded}")
        finished = [r.source for r in self.repaired if r.finished]
        undone = [r.source for r in self.repaired if not r.finished]
        if finished:
            lines.append(f"  finished the write of {len(finished)} article(s) that an interrupted run left "
                         f"(counted above as added or updated): {_names(finished)}")
        if undone:
            lines.append(f"  undid the unfinished write of {len(undone)} article(s) that an interrupted run left "
                         "(each is as it was before it; those among the files given were written again): "
                         + _names(undone))
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass
class _Work:
    record: ArticleRecord
    passages: list[Chunk]
    previous: ArticleRecord | None


def _names(sources: list[str], most: int = 5) -> str:
    return ", ".join(sources[:most]) + (f" and {len(sources) - most} more" if len(sources) > most else "")


def article_id(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def raw_version(raw: RawFile) -> str:
    """A hash of the file as read, and of the cleaner that would clean it."""
    return hashlib.sha256(f"{CLEANER_VERSION}\n{raw.kind}\n{raw.text}".encode("utf-8")).hexdigest()[:32]


def content_version(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:32]


def ingest(
    paths: list[Path],
    store: Store,
    embedder: Callable[[], Embedder],
    embedding_model: str,
    chunking: ChunkSettings = ChunkSettings(),
    max_file_bytes: int = 10_000_000,
    prune: bool | int = False,
    progress: bool = True,
    batch_passages: int = 1024,
    on_article: Callable[[str, str], None] | None = None,
    rebuild: bool = False,
    passage_header: bool = False,
) -> IngestReport:
    """Index the articles under ``paths`` into ``store``.

    ``embedder`` is called at most once, and only when something needs embedding, so an ingest of
    unchanged articles never loads the model. ``embedding_model`` is the name the manifest records.
    ``on_article(action, source)`` is told of each article as soon as it is committed or skipped.
    ``passage_header``: embed each passage under its article's title, date and section (:func:`headed`);
    the manifest records it, so a store is never searched with passages embedded both ways.
    The whole ingest holds the store's writer lock (:meth:`Store.writing`); ``rebuild`` empties
    the store first, under that lock (never while another process writes). ``prune`` removes articles whose files are gone; a prune that would
    remove every indexed article is refused unless ``prune`` is 2 or more (asked twice).
    """
    report = IngestReport(on_article=on_article)
    with store.writing():
        if rebuild:
            store.reset()
        files, problems = discover(paths)
        # Only these articles' unfinished writes (another ingest may be writing others), unless
        # pruning, which treats ``paths`` as the whole collection. Their ids are worked out only if
        # something is pending: resolving every path costs more than the rest of an unchanged ingest.
        given = cache(lambda: {article_key(path) for path in files})
        report.repaired = store.repair(None if prune else lambda record: _key(record) in given())
        # What this run finished counts as what it is, not as "unchanged" (the file is as written).
        finished = {r.article_id: "added" if r.new else "updated" for r in report.repaired if r.finished}
        stored_manifest = store.manifest()
        wanted = Manifest(embedding_model, stored_manifest.dimension if stored_manifest else 0,
                          chunking.sentences, chunking.overlap, chunking.max_chars, passage_header=passage_header)
        if stored_manifest is not None:
            store.check_manifest(wanted, create=False)
        for problem in problems:
            report.record("skipped", problem.source, problem.reason)
        stored = store.articles()
        by_key = {_key(record): record for record in stored.values()}
        by_version = {record.version: record for record in stored.values()}
        loaded: list[Embedder] = []

        def get_embedder() -> Embedder:
            if not loaded:
                model = embedder()
                if stored_manifest is None:
                    store.check_manifest(replace(wanted, dimension=model.dimension), create=True)
                elif model.dimension != stored_manifest.dimension:
                    raise StoreError(f"the embedding model gives {model.dimension}-d vectors, the store holds "
                                     f"{stored_manifest.dimension}-d ones: rebuild with "
                                     f"`{store.command('ingest --rebuild <folders>')}`")
                loaded.append(model)
            return loaded[0]

        buffer: list[_Work] = []
        for path in _progress(files, progress):
            work = _prepare(path, by_key, by_version, chunking, max_file_bytes, report, finished)
            if work is None:
                continue
            buffer.append(work)
            if sum(len(w.passages) for w in buffer) >= batch_passages:
                _flush(buffer, store, get_embedder, report, passage_header)
        _flush(buffer, store, get_embedder, report, passage_header)

        if prune:
            gone = [record for record in stored.values() if not record.location().exists()]
            if gone and len(gone) == len(stored) and prune < 2:
                raise StoreError(
                    f"--prune would remove all {len(gone)} indexed articles: none of their files is found (e.g. "
                    f"{gone[0].location()}). Nothing was removed. If the files moved, ingest them from their new "
                    "place; to really empty the index, give --prune twice")
            for record in gone:
                store.remove_article(record.id)
                report.record("removed", record.source)
    return report


def _key(record: ArticleRecord) -> str:
    """The :func:`article_key` of a stored article's file (see :meth:`ArticleRecord.location`)."""
    location = record.location()
    return (location if location.is_absolute() else Path.cwd().resolve() / location).as_posix()


def _prepare(
    path: Path, by_key: dict[str, ArticleRecord], by_version: dict[str, ArticleRecord], chunking: ChunkSettings,
    max_file_bytes: int, report: IngestReport, finished: dict[str, str],
) -> _Work | None:
    """Read, clean and chunk one file; record it as unchanged/skipped (or as ``finished`` says, for
    an article whose interrupted write this run finished), or return the work to do."""
    source = str(path)
    try:
        raw = read_file(path, max_file_bytes)
        source = raw.source
        key = article_key(path)
        previous = by_key.get(key)
        identity = previous.id if previous is not None else article_id(key)
        raw_hash = raw_version(raw)
        if previous is not None and previous.raw_hash == raw_hash:  # the same file: no need to clean it
            report.record(finished.get(previous.id, "unchanged"), source)
            return None
        cleaned = clean(raw.text, raw.kind, raw.properties)
    except InputError as error:
        report.record("skipped", source, str(error))
        return None
    version = content_version(cleaned.text)
    if previous is not None and previous.version == version:  # e.g. only furniture changed
        report.record(finished.get(previous.id, "unchanged"), source)
        return None
    original = by_version.get(version)
    if original is not None and original.id != identity:
        report.record("skipped", source, f"duplicate of {original.source} (same text): indexed once")
        return None
    passages = chunk(cleaned.text, identity, version, chunking.sentences, chunking.overlap, chunking.max_chars)
    record = ArticleRecord(
        id=identity, source=source, version=version, passages=len(passages), title=cleaned.title,
        author=cleaned.author, published=cleaned.published.isoformat() if cleaned.published else None,
        published_from=cleaned.published_from, outlet=cleaned.outlet, url=raw.url, text=cleaned.text, raw_hash=raw_hash,
        root=None if Path(source).is_absolute() else Path.cwd().resolve().as_posix(),
    )
    by_version[version] = record
    return _Work(record, passages, previous)


def embed_and_write(store: Store, model: Embedder, batch: Sequence[tuple[ArticleRecord, Sequence[Chunk]]],
                    header: bool = False) -> None:
    """Embed these articles' passages in one batch (each under its header, :func:`headed`, when
    ``header``), then write them in one batch (each article all-or-nothing, see :meth:`Store.write_articles`)."""
    vectors = model.embed([headed(record.passage_metadata(p), p.text) if header else p.text
                           for record, passages in batch for p in passages])
    items, offset = [], 0
    for record, passages in batch:
        items.append((record, passages, vectors[offset:offset + len(passages)]))
        offset += len(passages)
    store.write_articles(items)


def _flush(buffer: list[_Work], store: Store, get_embedder: Callable[[], Embedder], report: IngestReport,
           header: bool) -> None:
    """Embed and write the buffered articles, and count them."""
    if not buffer:
        return
    embed_and_write(store, get_embedder(), [(work.record, work.passages) for work in buffer], header)
    for work in buffer:
        report.passages_embedded += len(work.passages)
        report.record("updated" if work.previous is not None else "added", work.record.source)
    buffer.clear()


def _progress(files: list[Path], enabled: bool) -> Iterator[Path]:
    if not enabled or len(files) < 2:
        yield from files
        return
    from tqdm import tqdm

    # disable=None: a bar on a terminal, nothing when output is redirected.
    yield from tqdm(files, desc="ingest", unit="file", file=sys.stderr, leave=False, disable=None)
