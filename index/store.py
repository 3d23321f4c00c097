"""The Chroma store: passages with their vectors, a registry of articles, and a manifest.

We use ``chromadb`` directly rather than llama-index's ``ChromaVectorStore``: we need exact ids,
flat metadata to filter on (article, date), deletes by article, and a write protocol that keeps
each article all-or-nothing when an ingest is killed. The integration adds a serialized node per
record and hides those calls.

Two collections:

* ``<name>``: one record per passage (vector, text, metadata: article id, version, offsets,
  source, title, date). Its collection metadata holds the :class:`Manifest`.
* ``<name>_registry``: one record per article (the cleaned text as document, metadata as
  below). Chroma needs a vector per record; registry records carry a constant 1-d vector.

Writing articles (:meth:`Store.write_articles`, a batch at a time so that Chroma sees a few large
calls rather than several small ones per article):

1. their registry records are marked ``pending`` (each remembering the committed record it replaces);
2. their passages are upserted (ids derive from article, version and offsets, so the leftovers of
   a killed write of the same version are overwritten, not duplicated);
3. the old versions' passages are deleted;
4. the records are marked ``committed``.

A process killed anywhere in between leaves a ``pending`` record. :meth:`Store.repair` (run by the
next ingest of the same articles) rolls it forward when all of the new passages are there, and
back otherwise, so no article is ever half-written or counted twice. Readers never see a pending
version: retrieval keeps only passages of committed versions.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from index.chunking import Passage
from index.errors import StoreError

SCHEMA_VERSION = 1
_REGISTRY_SUFFIX = "_registry"
_MANIFEST_KEY = "rag_manifest"
_UNIT_VECTOR = [1.0]
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Manifest:
    """The settings that built a store. A store is only used with the same settings."""

    embedding_model: str
    dimension: int
    chunk_sentences: int
    chunk_overlap: int
    chunk_max_chars: int
    schema: int = SCHEMA_VERSION

    def differences(self, other: "Manifest") -> list[str]:
        """Human-readable ``name: stored -> wanted`` for every setting that differs."""
        return [
            f"{f.name}: {getattr(self, f.name)!r} (store) vs {getattr(other, f.name)!r} (now)"
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]


@dataclass(frozen=True)
class ArticleRecord:
    """An indexed article. ``version`` is its content hash; ``text`` the cleaned text."""

    id: str
    source: str
    version: str
    passages: int
    title: str | None = None
    author: str | None = None
    published: str | None = None  # ISO date, where the article states one
    outlet: str | None = None
    text: str = field(default="", repr=False)
    raw_hash: str | None = None  # of the file as read, with the cleaner's version (see index.ingest)
    status: str = "committed"
    previous: str = field(default="", repr=False)  # JSON of the committed record a pending one replaces
    root: str | None = None  # the working directory a relative ``source`` was named from

    def location(self) -> Path:
        """Where the article's file is: ``source`` resolved against the folder it was ingested from
        (records from before ``root`` was kept: against the working directory)."""
        source = Path(self.source)
        return source if source.is_absolute() or not self.root else Path(self.root) / source

    @property
    def published_date(self) -> date | None:
        return date.fromisoformat(self.published) if self.published else None

    def display_title(self) -> str:
        return self.title or Path(self.source).name

    def passage_metadata(self, passage: Passage) -> dict[str, Any]:
        """Metadata stored with each passage, flat so Chroma can filter on it."""
        meta: dict[str, Any] = {
            "article_id": self.id, "version": self.version, "source": self.source,
            "title": self.display_title(), "start": passage.start, "end": passage.end, "index": passage.index,
        }
        if passage.section:
            meta["section"] = passage.section
        if self.published:
            meta["published"] = self.published
            meta["published_day"] = day_number(self.published_date)
        if self.outlet:
            meta["outlet"] = self.outlet
        return meta

    def _metadata(self) -> dict[str, Any]:
        values = asdict(self)
        del values["id"], values["text"]
        return {key: value for key, value in values.items() if value is not None}

    @classmethod
    def _from(cls, record_id: str, metadata: dict[str, Any], document: str | None) -> "ArticleRecord":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in metadata.items() if key in known}
        return cls(id=record_id, text=document or "", **values)


@dataclass(frozen=True)
class Hit:
    """A passage returned by a search, with its cosine similarity."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float


def day_number(when: date | None) -> int | None:
    """Days since 1970-01-01, the form dates take in passage metadata (Chroma filters on numbers)."""
    return (when - _EPOCH).days if when else None


class Store:
    """One index in Chroma: open it with :meth:`open`."""

    #: Passages per ``add`` call (Chroma limits the batch size).
    write_batch = 1000

    def __init__(self, client: Any, name: str, where: str, folder: Path | None = None):
        self._client = client
        self.name = name
        self.where = where
        #: The embedded store's folder; None for a Chroma server.
        self.folder = folder
        self._passages = None
        self._registry = None

    # ---- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls, *, path: str | Path | None = None, host: str | None = None, port: int = 8000,
        collection: str = "articles",
    ) -> "Store":
        """Connect to a Chroma server (``host``) or open the embedded store at ``path``."""
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        folder = None
        if host:
            where = f"Chroma server {host}:{port}"
            try:
                client = chromadb.HttpClient(host=host, port=port, settings=settings)
                client.heartbeat()
            except Exception as error:  # noqa: BLE001 - connection failures come in many types
                raise StoreError(
                    f"cannot reach the {where} ({type(error).__name__}): start it with "
                    f"`chroma run --path DIR --port {port}`, or unset RAG_CHROMA_HOST to use the embedded store"
                ) from None
        else:
            folder = Path(path or ".rag")
            where = f"store {folder}"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(folder), settings=settings)
            except Exception as error:  # noqa: BLE001
                raise StoreError(f"cannot open the {where}: {error}; check the folder or set RAG_STORE_PATH") from None
        return cls(client, collection, where, folder)

    def exists(self) -> bool:
        """True when the passage collection has been created (by an ingest)."""
        return self._collection(create=False) is not None

    def manifest(self) -> Manifest | None:
        collection = self._collection(create=False)
        if collection is None:
            return None
        raw = (collection.metadata or {}).get(_MANIFEST_KEY)
        return Manifest(**json.loads(raw)) if raw else None

    def check_manifest(self, wanted: Manifest, *, create: bool, rebuild_hint: str) -> None:
        """Create the store with ``wanted`` settings (when ``create``), or refuse one built otherwise."""
        stored = self.manifest()
        if stored is None:
            if not create:
                raise StoreError(f"no articles indexed in the {self.where} yet: run `rag ingest seeds/` first")
            self._collection(create=True, manifest=wanted)
            return
        differences = stored.differences(wanted)
        if differences:
            raise StoreError(
                f"the {self.where} was built with other settings ({'; '.join(differences)}): "
                f"rebuild it with `{rebuild_hint}`, or use the settings it was built with"
            )

    def reset(self) -> None:
        """Delete both collections (``rag ingest --rebuild``)."""
        for name in (self.name, self.name + _REGISTRY_SUFFIX):
            try:
                self._client.delete_collection(name)
            except Exception:  # noqa: BLE001 - absent already
                pass
        self._passages = self._registry = None

    # ---- articles ----------------------------------------------------------------------------

    def articles(self, *, with_text: bool = False) -> dict[str, ArticleRecord]:
        """The readable articles by id: committed ones, and for an update still pending (in
        progress, or left by a killed process), the committed version it replaces."""
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        readable = (_readable(record) for record in self._records(include=include))
        return {record.id: record for record in readable if record is not None}

    def article(self, article_id: str) -> ArticleRecord | None:
        """One readable article (see :meth:`articles`), with its text; None if there is none."""
        found = self._registry_collection().get(ids=[article_id], include=["metadatas", "documents"])
        if not found["ids"]:
            return None
        return _readable(ArticleRecord._from(found["ids"][0], found["metadatas"][0], found["documents"][0]))

    def find_version(self, version: str) -> ArticleRecord | None:
        """A committed article with this content hash, if any (to report duplicates)."""
        found = self._registry_collection().get(
            where={"$and": [{"version": version}, {"status": "committed"}]}, include=["metadatas"], limit=1
        )
        if not found["ids"]:
            return None
        return ArticleRecord._from(found["ids"][0], found["metadatas"][0], None)

    def write_articles(self, items: Sequence[tuple[ArticleRecord, Sequence[Passage], np.ndarray]]) -> None:
        """Store each ``(record, passages, vectors)``, replacing the committed version of the same
        article if there is one; all-or-nothing per article (see the module docstring)."""
        if not items:
            return
        registry, store = self._registry_collection(), self._collection(create=True)
        found = registry.get(ids=[record.id for record, _, _ in items], include=["metadatas", "documents"])
        previous = {i: ArticleRecord._from(i, meta, doc)
                    for i, meta, doc in zip(found["ids"], found["metadatas"], found["documents"])}
        previous = {i: r for i, r in previous.items() if r.status == "committed"}
        pending = [replace(record, status="pending",
                           previous=json.dumps(_record_dict(previous[record.id])) if record.id in previous else "")
                   for record, _, _ in items]
        self._put_records(registry, pending)
        rows = [(record, p, v) for record, passages, vectors in items for p, v in zip(passages, vectors)]
        for begin in range(0, len(rows), self.write_batch):
            batch = rows[begin:begin + self.write_batch]
            store.upsert(ids=[p.id for _, p, _ in batch], embeddings=np.stack([v for _, _, v in batch]).tolist(),
                         documents=[p.text for _, p, _ in batch],
                         metadatas=[record.passage_metadata(p) for record, p, _ in batch])
        for record, _, _ in items:
            old = previous.get(record.id)
            if old is not None and old.version != record.version:
                self._delete_version(old.id, old.version)
        # Committing changes only the records' metadata: no need to send their text again.
        registry.update(ids=[record.id for record, _, _ in items],
                        metadatas=[replace(record, status="committed", previous="")._metadata() for record, _, _ in items])

    def remove_article(self, article_id: str) -> None:
        """Delete an article and all its passages."""
        self._collection(create=True).delete(where={"article_id": article_id})
        self._registry_collection().delete(ids=[article_id])

    def repair(self, only: Callable[[ArticleRecord], bool] | None = None) -> list[str]:
        """Finish or undo writes a killed process left pending (only the records ``only`` accepts,
        when given, so that ingests of disjoint shards never undo each other's writes in progress);
        returns the sources it touched."""
        if not self.exists():
            return []
        repaired = []
        for record in self._records(include=["metadatas", "documents"], where={"status": "pending"}):
            if only is not None and not only(record):
                continue
            found = self._collection(create=True).get(
                where={"$and": [{"article_id": record.id}, {"version": record.version}]}, include=[]
            )
            previous = ArticleRecord(**json.loads(record.previous)) if record.previous else None
            if len(found["ids"]) == record.passages:  # every new passage is there: roll forward
                if previous is not None and previous.version != record.version:
                    self._delete_version(record.id, previous.version)
                self._put_record(self._registry_collection(), replace(record, status="committed", previous=""))
            else:  # roll back to the previous version (whose passages are untouched), or to nothing
                self._delete_version(record.id, record.version)
                if previous is not None:
                    self._put_record(self._registry_collection(), previous)
                else:
                    self._registry_collection().delete(ids=[record.id])
            repaired.append(record.source)
        return repaired

    # ---- passages ----------------------------------------------------------------------------

    def count(self) -> int:
        collection = self._collection(create=False)
        return collection.count() if collection is not None else 0

    def search(self, vector: Sequence[float], k: int, where: dict | None = None) -> list[Hit]:
        """The ``k`` passages nearest to ``vector`` (cosine), optionally filtered by metadata."""
        collection = self._collection(create=False)
        if collection is None or k <= 0:
            return []
        result = collection.query(
            query_embeddings=[list(map(float, vector))], n_results=k, where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(id=i, text=doc, metadata=meta, score=1.0 - float(dist))
            for i, doc, meta, dist in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]
            )
        ]

    def search_exact(self, vector: Sequence[float], k: int, where: dict) -> list[Hit]:
        """:meth:`search` by comparing ``vector`` with every passage ``where`` selects: for a
        handful of articles this metadata lookup is much faster than a filtered nearest-neighbour
        query over the whole collection, and exact."""
        collection = self._collection(create=False)
        if collection is None or k <= 0:
            return []
        found = collection.get(where=where, include=["documents", "metadatas", "embeddings"])
        if not found["ids"]:
            return []
        scores = np.asarray(found["embeddings"], dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
        best = np.argsort(-scores, kind="stable")[:k]
        return [Hit(id=found["ids"][i], text=found["documents"][i], metadata=found["metadatas"][i],
                    score=float(scores[i])) for i in best]

    def hits(self, ids: Sequence[str]) -> list[Hit]:
        """These passages, in the order of ``ids`` (missing ones left out), with score 0."""
        collection = self._collection(create=False)
        if collection is None or not ids:
            return []
        found = collection.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {i: Hit(id=i, text=doc, metadata=meta, score=0.0)
                 for i, doc, meta in zip(found["ids"], found["documents"], found["metadatas"])}
        return [by_id[i] for i in ids if i in by_id]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these passages, by id."""
        collection = self._collection(create=False)
        if collection is None or not ids:
            return {}
        found = collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(found["ids"], found["embeddings"])}

    def passages(self, where: dict | None = None, page: int = 5000) -> Iterator[Hit]:
        """Every passage (for keyword indexes), page by page, with score 0."""
        collection = self._collection(create=False)
        if collection is None:
            return
        offset = 0
        while True:
            found = collection.get(where=where or None, limit=page, offset=offset,
                                   include=["documents", "metadatas"])
            for i, doc, meta in zip(found["ids"], found["documents"], found["metadatas"]):
                yield Hit(id=i, text=doc, metadata=meta, score=0.0)
            if len(found["ids"]) < page:
                return
            offset += page

    # ---- internals ---------------------------------------------------------------------------

    def _collection(self, *, create: bool, manifest: Manifest | None = None):
        if self._passages is not None:
            return self._passages
        try:
            if create:
                metadata = {"hnsw:space": "cosine"}
                if manifest is not None:
                    metadata[_MANIFEST_KEY] = json.dumps(asdict(manifest))
                self._passages = self._client.get_or_create_collection(
                    self.name, metadata=metadata, embedding_function=None
                )
            else:
                self._passages = self._client.get_collection(self.name, embedding_function=None)
        except Exception as error:  # noqa: BLE001
            if not create and type(error).__name__ in {"NotFoundError", "InvalidCollectionException", "ValueError"}:
                return None
            raise StoreError(f"the {self.where} failed: {error}") from None
        return self._passages

    def _registry_collection(self):
        if self._registry is None:
            self._registry = self._client.get_or_create_collection(
                self.name + _REGISTRY_SUFFIX, embedding_function=None
            )
        return self._registry

    def _records(self, include: list[str], where: dict | None = None) -> list[ArticleRecord]:
        found = self._registry_collection().get(where=where, include=include)
        documents = found.get("documents") or [None] * len(found["ids"])
        return [
            ArticleRecord._from(i, meta, doc) for i, meta, doc in zip(found["ids"], found["metadatas"], documents)
        ]

    def _put_record(self, registry: Any, record: ArticleRecord) -> None:
        self._put_records(registry, [record])

    def _put_records(self, registry: Any, records: Sequence[ArticleRecord]) -> None:
        registry.upsert(ids=[r.id for r in records], embeddings=[_UNIT_VECTOR] * len(records),
                        documents=[r.text or " " for r in records], metadatas=[r._metadata() for r in records])

    def _delete_version(self, article_id: str, version: str) -> None:
        self._collection(create=True).delete(where={"$and": [{"article_id": article_id}, {"version": version}]})


def _readable(record: ArticleRecord) -> ArticleRecord | None:
    """What readers see of a registry record: a committed one as it is; a pending update as the
    committed version it replaces (whose passages stay until the update commits); a pending new
    article not at all."""
    if record.status == "committed":
        return record
    if record.previous:
        return ArticleRecord(**json.loads(record.previous))
    return None


def _record_dict(record: ArticleRecord) -> dict[str, Any]:
    values = asdict(record)
    values["previous"] = ""
    return values
