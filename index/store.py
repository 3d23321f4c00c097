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

Reading is :class:`StoreReader` (what the answering code and a read-only page are given: it has
no method that writes); :class:`Store` adds the writes. Writing articles
(:meth:`Store.write_articles`, a batch at a time so that Chroma sees a few large calls rather
than several small ones per article):

1. their registry records are marked ``pending`` (each remembering the committed record it replaces);
2. their passages are upserted (ids derive from article, version and offsets, so the leftovers of
   a killed write of the same version are overwritten, not duplicated);
3. the old versions' passages are deleted;
4. the records are marked ``committed``.

A process killed anywhere in between leaves a ``pending`` record. :meth:`Store.repair` (run by the
next ingest of the same articles) rolls it forward when all of the new passages are there, and
back otherwise, so no article is ever half-written or counted twice. Readers never see a pending
version: retrieval keeps only passages of committed versions.

The embedded store's folder, shared by several processes (the writer's lock, the reload of
other processes' writes, the probe of damaged vector indexes) is :mod:`index.folder`; a full
disk is :mod:`index.disk`; what the store keeps and gives back (records, hits, the health
report) is :mod:`index.records`.

A Chroma server serialises writes itself; there, a collection deleted and created again by
another process (``--rebuild``) is found again on the next call.

"""

from __future__ import annotations

import json
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, replace
from functools import wraps
from pathlib import Path
from typing import Any, Callable, Iterator, Self, Sequence, TypeVar

import numpy as np

from index.chunking import Chunk, uncovered
from index.disk import disk_full, free_space, megabytes, no_space, space_needed, space_to_read
from index.errors import StoreError
from index.database import DATABASE, database_damage
from index.folder import SERVER_HINT, Folder
from index.records import ArticleRecord, Health, Hit, Manifest, Repair


_REGISTRY_SUFFIX = "_registry"
_MANIFEST_KEY = "rag_manifest"
_GENERATION_KEY = "rag_generation"  # on a Chroma server's article registry: see StoreReader.generation
#: Seconds a Chroma server's generation is trusted before it is read again (processes beside the
#: writer see its changes this late at most).
SERVER_GENERATION_EVERY = 1.0
_UNIT_VECTOR = [1.0]
DEFAULT_FOLDER = Path(".rag")
#: How Chroma says a collection is not there (the type names differ between its versions).
_ABSENT = frozenset({"NotFoundError", "InvalidCollectionException", "ValueError"})


def _options(options: list[str], collection: str) -> str:
    """``rag`` options naming a store (see :meth:`Store.command`)."""
    import shlex

    if collection != "articles":
        options = [*options, "--collection", collection]
    return " ".join(shlex.quote(option) for option in options)


_T = TypeVar("_T")


def _from_chroma(error: Exception) -> bool:
    """True for errors raised by Chroma or what it stands on (sqlite, the HTTP client, files),
    not for ours or for bugs, which pass through unchanged."""
    module = type(error).__module__ or ""
    return isinstance(error, OSError) or module.split(".")[0] in {"chromadb", "sqlite3", "httpx", "httpcore"}


def _chroma(doing: str) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    """Run a store method; an error raised inside Chroma becomes one :class:`StoreError`
    line naming the store and what to do. A collection deleted and made again by another process
    (a rebuild) is looked up again once before giving up, and so is a read that failed on a full
    disk once the space kept in reserve is given back (Chroma writes even to read)."""

    def decorate(method: Callable[..., _T]) -> Callable[..., _T]:
        @wraps(method)
        def run(self: "StoreReader", *args: Any, **kwargs: Any) -> _T:
            for attempt in (1, 2):
                try:
                    return method(self, *args, **kwargs)
                except Exception as error:  # noqa: BLE001 - Chroma raises many types
                    if not _from_chroma(error):
                        raise
                    if attempt == 1 and type(error).__name__ in _ABSENT - {"ValueError"}:
                        self._forget(reopen=True)
                        continue
                    if attempt == 1 and self._shared is not None and disk_full(self._shared.path, self.where, error) \
                            and self._shared.reading_room():
                        self._passages = self._registry = None
                        continue
                    raise self._failure(error, doing) from error
            raise AssertionError("unreachable")

        return run

    return decorate


class StoreReader:
    """One index in Chroma, read: open it with :meth:`open`. It has no method that writes (the
    writer is :class:`Store`), so a reader given to a read-only page cannot change the store."""

    #: Passages per ``add`` call (Chroma limits the batch size).
    write_batch = 1000

    def __init__(self, client: Any, name: str, where: str, folder: Path | None = None, options: str = ""):
        self._client = client
        self.name = name
        self.where = where
        #: The ``rag`` options that name this store (``--store PATH`` ...; none for the defaults).
        self.options = options
        #: The embedded store's folder; None for a Chroma server.
        self.folder = folder
        self._shared = Folder.of(folder) if folder is not None else None
        self._epoch = 0
        self._passages = None
        self._registry = None
        self._remade: tuple[object, dict[str, Hit]] | None = None  # see _passages_from_registry
        self._server_generation: tuple[float, object] | None = None  # (when read, what): see generation

    # ---- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls, *, path: str | Path | None = None, host: str | None = None, port: int = 8000,
        collection: str = "articles",
    ) -> "Self":
        """Connect to a Chroma server (``host``) or open the embedded store at ``path``."""
        if host:
            import chromadb
            from chromadb.config import Settings

            where = f"Chroma server {host}:{port}"
            try:
                client = chromadb.HttpClient(host=host, port=port, settings=Settings(anonymized_telemetry=False))
                client.heartbeat()
            except Exception as error:  # noqa: BLE001 - connection failures come in many types
                raise StoreError(
                    f"cannot reach the {where} ({type(error).__name__}): start it with "
                    f"`chroma run --path DIR --port {port}`, or unset RAG_CHROMA_HOST to use the embedded store"
                ) from None
            return cls(client, collection, where, options=_options(
                ["--chroma-host", host, "--chroma-port", str(port)], collection))
        folder = Path(path or DEFAULT_FOLDER)
        store = cls(None, collection, f"store {folder}", folder,
                    _options([] if folder == DEFAULT_FOLDER else ["--store", str(folder)], collection))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            store._sync()
        except Exception as error:  # noqa: BLE001
            raise store._failure(error, "opening it") from None
        return store

    def command(self, arguments: str) -> str:
        """The ``rag`` command that runs ``arguments`` (e.g. ``"doctor --repair"``) on this store."""
        return " ".join(["rag", self.options, arguments]).replace("  ", " ")

    @_chroma("opening it")
    def verify(self) -> None:
        """Probe the vector indexes again, whatever ``.index-checked`` records of them (unless this
        process has probed these very contents): ``rag doctor`` is what a user runs when something
        is wrong, and trusts no record."""
        if self._shared is not None:
            self._shared.current(verify=True)
            self._sync()

    def damage(self) -> str:
        """Why the passages' vector index cannot be loaded without crashing the process ("" when it can)."""
        return self._shared.damaged.get(self.name, "") if self._shared is not None else ""

    def generation(self) -> object:
        """Changes whenever any process writes to this store: readers that cache what they read
        compare it to know when to reload. An embedded store's is its folder's; a Chroma server's
        is the stamp every writer puts on the article registry (:meth:`Store.writing`), read at
        most every :data:`SERVER_GENERATION_EVERY` seconds (one request to the server)."""
        if self._shared is not None:
            return self._shared.generation()
        now = time.monotonic()
        if self._server_generation is None or now - self._server_generation[0] >= SERVER_GENERATION_EVERY:
            try:
                registry = self._client.get_collection(self.name + _REGISTRY_SUFFIX, embedding_function=None)
                seen = (str(registry.id), (registry.metadata or {}).get(_GENERATION_KEY))
            except Exception:  # noqa: BLE001 - no registry yet, or the server is away (the next read says so)
                seen = None
            self._server_generation = (now, seen)
        return self._server_generation[1]

    @_chroma("reading it")
    def exists(self) -> bool:
        """True when the passage collection has been created (by an ingest)."""
        return self._collection(create=False, load=False) is not None

    @_chroma("reading its settings")
    def manifest(self) -> Manifest | None:
        collection = self._collection(create=False, load=False)
        if collection is None:
            return None
        raw = (collection.metadata or {}).get(_MANIFEST_KEY)
        return Manifest(**json.loads(raw)) if raw else None

    @_chroma("checking its settings")
    def check_manifest(self, wanted: Manifest, *, create: bool = False) -> None:
        """Create the store with ``wanted`` settings (when ``create``), or refuse one built otherwise."""
        stored = self.manifest()
        if stored is None:
            if not create:
                raise StoreError(f"no articles indexed in the {self.where} yet: run "
                                 f"`{self.command('ingest seeds/')}` first")
            self._make(wanted)
            return
        differences = stored.differences(wanted)
        if differences:
            raise StoreError(
                f"the {self.where} was built with other settings ({'; '.join(differences)}): "
                f"rebuild it with `{self.command('ingest --rebuild <folders>')}`, or use the settings it was built with"
            )

    # ---- articles ----------------------------------------------------------------------------

    @_chroma("listing its articles")
    def articles(self, *, with_text: bool = False) -> dict[str, ArticleRecord]:
        """The readable articles by id: committed ones, and for an update still pending (in
        progress, or left by a killed process), the committed version it replaces."""
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        readable = (_readable(record) for record in self._records(include=include))
        return {record.id: record for record in readable if record is not None}

    @_chroma("reading an article")
    def article(self, article_id: str) -> ArticleRecord | None:
        """One readable article (see :meth:`articles`), with its text; None if there is none."""
        found = self._registry_collection().get(ids=[article_id], include=["metadatas", "documents"])
        if not found["ids"]:
            return None
        return _readable(ArticleRecord._from(found["ids"][0], found["metadatas"][0], found["documents"][0]))

    @_chroma("reading an article")
    def find_version(self, version: str) -> ArticleRecord | None:
        """A committed article with this content hash, if any (to report duplicates)."""
        found = self._registry_collection().get(
            where={"$and": [{"version": version}, {"status": "committed"}]}, include=["metadatas"], limit=1
        )
        if not found["ids"]:
            return None
        return ArticleRecord._from(found["ids"][0], found["metadatas"][0], None)

    @_chroma("checking it")
    def check(self, page: int = 1000) -> Health:
        """Verify the passages against the registry: every committed article has all its passages,
        each passage's vector can be read, no passage belongs to no article, and every character of
        each article's cleaned text (white space aside) is in one of its passages; also which
        vectors a search for them does not return (:attr:`Health.unreachable`). Reads everything
        once; changes nothing."""
        records = self._records(include=["metadatas", "documents"])
        committed = {r.id: r for r in records if r.status == "committed"}
        allowed = {(r.id, r.version) for r in records}  # a pending write's passages, and what it replaces
        allowed |= {(r.id, json.loads(r.previous)["version"]) for r in records if r.previous}
        health = Health(articles=sum(_readable(r) is not None for r in records),
                        pending=[r.source for r in records if r.status != "committed"],
                        pending_new=[r.source for r in records if _readable(r) is None])
        if self.damage():
            health.unloadable = f"the vector index is damaged: {self.damage()}"
            health.unreadable = {i: r.passages for i, r in committed.items()}
            return health
        collection = self._collection(create=False)
        if collection is None:
            health.incomplete = {i: f"0 of {r.passages} passages" for i, r in committed.items()}
            health.uncovered = _uncovered(committed, {})
            return health
        counts: dict[str, int] = {}
        spans: dict[str, list[tuple[int, int]]] = {}
        offset = 0
        while True:
            try:
                found = collection.get(limit=page, offset=offset, include=["metadatas"])
            except Exception as error:  # noqa: BLE001 - the vector index cannot be loaded at all
                if not _from_chroma(error) or self._database_damage(str(error)):
                    raise  # a damaged database: --repair cannot help (see _failure)
                health.unloadable = " ".join(str(error).split())[:300] or type(error).__name__
                health.unreadable = {i: r.passages for i, r in committed.items()}
                return health
            owner = {i: meta.get("article_id") for i, meta in zip(found["ids"], found["metadatas"])}
            for i, meta in zip(found["ids"], found["metadatas"]):
                key = (meta.get("article_id"), meta.get("version"))
                if key not in allowed:
                    health.orphans.append(i)
                elif key[0] in committed and committed[key[0]].version == key[1]:
                    counts[key[0]] = counts.get(key[0], 0) + 1
                    if isinstance(meta.get("start"), int) and isinstance(meta.get("end"), int):
                        spans.setdefault(key[0], []).append((meta["start"], meta["end"]))
            unreadable, unreachable = self._lost_vectors(collection, found["ids"])
            for lost, where in ((unreadable, health.unreadable), (unreachable, health.unreachable)):
                for i in lost:
                    where[owner[i]] = where.get(owner[i], 0) + 1
            health.passages += len(found["ids"])
            if len(found["ids"]) < page:
                break
            offset += page
        health.incomplete = {i: f"{counts.get(i, 0)} of {r.passages} passages" for i, r in committed.items()
                             if counts.get(i, 0) != r.passages}
        health.uncovered = _uncovered(committed, spans)
        return health

    @staticmethod
    def _lost_vectors(collection: Any, ids: list[str]) -> tuple[list[str], list[str]]:
        """Those of ``ids`` whose vector cannot be read (lost), and those whose vector is read but
        not found by a search for it (unreachable in the approximate graph)."""
        if not ids:
            return [], []
        try:
            found = collection.get(ids=ids, include=["embeddings"])
            vectors = {i: v for i, v in zip(found["ids"], found["embeddings"]) if v is not None and len(v)}
            asked = [i for i in ids if i in vectors]
            lost = [i for i in ids if i not in vectors]
            # The graph search is approximate, and a store may hold many near-identical passages:
            # look wider (up to 100 neighbours) before calling a vector unreachable.
            total = collection.count() if asked else 0
            for n in (1, 10, 100):
                if not asked:
                    break
                result = collection.query(query_embeddings=[vectors[i] for i in asked], n_results=min(n, total),
                                          include=["distances"])
                asked = [i for i, hits, distances in zip(asked, result["ids"], result["distances"])
                         if i not in hits and not (distances and distances[0] < 1e-6)]
            return lost, asked
        except Exception as error:  # noqa: BLE001 - a damaged index fails in many ways
            if not _from_chroma(error):
                raise
            return list(ids), []

    # ---- passages ----------------------------------------------------------------------------

    @_chroma("counting passages")
    def count(self) -> int:
        collection = self._collection(create=False)
        return collection.count() if collection is not None else 0

    @_chroma("searching it")
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

    @_chroma("searching it")
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

    @_chroma("reading passages")
    def hits(self, ids: Sequence[str]) -> list[Hit]:
        """These passages, in the order of ``ids`` (missing ones left out), with score 0."""
        if self.damage():
            remade = self._passages_from_registry()
            return [remade[i] for i in ids if i in remade]
        collection = self._collection(create=False)
        if collection is None or not ids:
            return []
        found = collection.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {i: Hit(id=i, text=doc, metadata=meta, score=0.0)
                 for i, doc, meta in zip(found["ids"], found["documents"], found["metadatas"])}
        return [by_id[i] for i in ids if i in by_id]

    @_chroma("reading vectors")
    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these passages, by id."""
        collection = self._collection(create=False)
        if collection is None or not ids:
            return {}
        found = collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(found["ids"], found["embeddings"])}

    def passages(self, where: dict | None = None, page: int = 5000) -> Iterator[Hit]:
        """Every passage (for keyword indexes), page by page, with score 0. While the vector index
        is damaged, every committed passage, made again from the registry (``where`` unused)."""
        if self.damage():
            yield from self._passages_from_registry().values()
            return
        collection = self._collection(create=False)
        if collection is None:
            return
        offset = 0
        while True:
            try:
                found = collection.get(where=where or None, limit=page, offset=offset,
                                       include=["documents", "metadatas"])
            except Exception as error:  # noqa: BLE001 - see _chroma
                if not _from_chroma(error):
                    raise
                raise self._failure(error, "reading passages") from error
            for i, doc, meta in zip(found["ids"], found["documents"], found["metadatas"]):
                yield Hit(id=i, text=doc, metadata=meta, score=0.0)
            if len(found["ids"]) < page:
                return
            offset += page

    # ---- internals ---------------------------------------------------------------------------

    def _passages_from_registry(self) -> dict[str, Hit]:
        """While the passages' vector index is damaged, their texts cannot be read from Chroma
        either: the committed articles' passages made again from the registry's texts, with the
        chunking settings of the manifest (what ``rag doctor --repair`` embeds), by id; kept until
        the store changes. Keyword search goes on over them."""
        from index.chunking import chunk

        generation = self.generation()
        if self._remade is None or self._remade[0] != generation:
            manifest = self.manifest()
            remade: dict[str, Hit] = {}
            for record in self.articles(with_text=True).values() if manifest is not None else ():
                for passage in chunk(record.text, record.id, record.version, manifest.chunk_sentences,
                                     manifest.chunk_overlap, manifest.chunk_max_chars):
                    remade[passage.id] = Hit(passage.id, passage.text, record.passage_metadata(passage), 0.0)
            self._remade = (generation, remade)
        return self._remade[1]

    def _sync(self) -> None:
        """Follow the shared client of an embedded folder: when it was reopened (another process
        wrote), drop the collections cached from the old one."""
        if self._shared is None:
            return
        client, epoch = self._shared.current()
        if epoch != self._epoch:
            self._client, self._epoch = client, epoch
            self._passages = self._registry = None

    def _forget(self, *, reopen: bool = False) -> None:
        """Drop the cached collections (and, for an embedded store, reopen its client)."""
        if reopen and self._shared is not None:
            self._shared.current(force=True)
        self._passages = self._registry = None
        self._sync()

    def _database_damage(self, detail: str = "", deep: bool = False) -> str:
        """What is wrong with the embedded store's database file, in sqlite's words ("" when sqlite
        finds it sound, or for a server), for an error Chroma raised (its text ``detail``), whose
        words for it vary ("Failed to pull logs from the log store", "backfill request to
        compactor"): sqlite's quick check (``deep``: its integrity check) decides."""
        if self._shared is None:
            return ""
        found = database_damage(self._shared.path, deep)
        if found or not ("malformed" in detail or "not a database" in detail):
            return found
        return "database disk image is malformed" if "malformed" in detail else "file is not a database"

    def check_database(self, deep: bool = False) -> None:
        """Raise the :class:`StoreError` that names the rebuild when sqlite's own check of the
        embedded store's database file finds damage (``deep``: the slower, fuller check); Chroma
        reads past damage in a part it does not need yet, until a write meets it."""
        damage = self._database_damage(deep=deep)
        if damage:
            raise self._damaged_database(damage)

    def _damaged_database(self, damage: str) -> StoreError:
        return StoreError(
            f"the {self.where} is damaged ({DATABASE} fails sqlite's check: {damage}): build it again from the "
            f"article files with `{self.command('ingest --rebuild <folders>')}` (the damaged files are moved to "
            f"{self._shared.path}/damaged-<time>; the articles uploaded in the page are kept)")

    def _failure(self, error: Exception, doing: str) -> StoreError:
        """One line for an error raised inside Chroma: what failed, and what to do about it."""
        name = type(error).__name__
        detail = " ".join(str(error).split())[:300] or name
        self._passages = self._registry = None  # the next call starts from fresh collections
        if self._shared is None:
            if "connect" in name.lower() or "connect" in detail.lower() or isinstance(error, OSError):
                return StoreError(
                    f"lost the connection to the {self.where} while {doing} ({name}): check that it runs, then "
                    "try again; an ingest cut short is completed or undone when it is run again")
            return StoreError(f"the {self.where} failed while {doing} ({name}: {detail}): check the server's "
                              "log; if its collection is damaged, rebuild it with "
                              f"`{self.command('ingest --rebuild <folders>')}`")
        full = disk_full(self._shared.path, self.where, error)
        damage = self._database_damage(detail)
        if full and (no_space(error) or not damage):
            self._shared.stale()  # reopen (once there is room) rather than keep a half-written state
            need = megabytes(space_to_read(self._shared.path / DATABASE))
            return StoreError(f"{full}: free at least {need} there (Chroma writes to the store's database even to "
                              "read it), then try again; no committed article is lost (a write cut short is "
                              f"finished or undone by the next ingest, or `{self.command('doctor --repair')}`)")
        if damage:
            return self._damaged_database(damage)
        self._shared.current(force=True)  # a half-read index is not kept
        writer = self._shared.writer()
        if writer is not None:
            return StoreError(f"the {self.where} failed while {doing}, because {writer} is writing to it now "
                              f"({name}: {detail}): try again when it finishes; {SERVER_HINT}")
        return StoreError(
            f"the {self.where} failed while {doing} ({name}: {detail}): check it with `{self.command('doctor')}`; "
            f"`{self.command('doctor --repair')}` fixes what it finds, else rebuild with "
            f"`{self.command('ingest --rebuild <folders>')}`")

    def _undamaged(self, name: str) -> None:
        """The collection ``name`` was deleted: what is made under its name is sound."""
        if self._shared is not None:
            self._shared.damaged.pop(name, None)

    def _loadable(self, name: str) -> None:
        """Refuse to touch a collection whose vector index crashed the probe (see the module docstring)."""
        why = self._shared.damaged.get(name) if self._shared is not None else None
        if why is None:
            return
        if name == self.name:
            raise StoreError(f"the vector index of the {self.where} is damaged ({why}): rebuild it from the "
                             f"passages the store keeps with `{self.command('doctor --repair')}`")
        raise StoreError(f"the article registry of the {self.where} is damaged ({why}): rebuild the store from "
                         f"the article files with `{self.command('ingest --rebuild <folders>')}`")

    def _collection(self, *, create: bool, manifest: Manifest | None = None, load: bool = True):
        """The passage collection (None if not made yet and not ``create``); ``load=False`` when
        only its settings are read, which does not load its vector index."""
        self._sync()
        if load:
            self._loadable(self.name)
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
            if not create and type(error).__name__ in _ABSENT:
                return None
            raise
        return self._passages

    def _registry_collection(self):
        self._sync()
        self._loadable(self.name + _REGISTRY_SUFFIX)
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

    def _make(self, manifest: Manifest) -> None:
        raise TypeError(f"the {self.where} was opened to read (StoreReader): open a Store to create it")


class Store(StoreReader):
    """One index in Chroma, read and written (:meth:`write_articles`, :meth:`remove_article`,
    :meth:`repair` ...): open it with :meth:`open`. Every change takes the writer's lock
    (:meth:`writing`)."""

    @classmethod
    def set_aside_damaged(cls, path: str | Path) -> Path | None:
        """Before a rebuild of the embedded store at ``path``: when its database is damaged, move
        Chroma's files into ``<path>/damaged-<time>/`` so that the rebuild starts afresh (the
        uploads stay); returns that folder, or None when the database is sound."""
        folder = Path(path)
        if not (folder / DATABASE).exists():
            return None
        return Folder.of(folder).set_aside(f"store {folder}")

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the store's writer lock for a batch of changes: one writing process per embedded
        store at a time (a second one gets a :class:`StoreError` naming the first). Every change
        below takes it; hold it around several to make them one write. A server needs no lock."""
        if self._shared is None:  # a server: its readers learn of the change from a new stamp
            try:
                yield
            finally:
                self._registry_collection().modify(metadata={_GENERATION_KEY: uuid.uuid4().hex})
                self._server_generation = None
            return
        with self._shared.writing(self.where):
            self._sync()
            yield

    @_chroma("emptying it")
    def reset(self) -> None:
        """Delete both collections (``rag ingest --rebuild``)."""
        with self.writing():
            for name in (self.name, self.name + _REGISTRY_SUFFIX):
                try:
                    self._client.delete_collection(name)
                except Exception as error:  # noqa: BLE001
                    if type(error).__name__ not in _ABSENT:
                        raise
                self._undamaged(name)
            self._passages = self._registry = None

    @_chroma("writing articles")
    def write_articles(self, items: Sequence[tuple[ArticleRecord, Sequence[Chunk], np.ndarray]]) -> None:
        """Store each ``(record, passages, vectors)``, replacing the committed version of the same
        article if there is one; all-or-nothing per article (see the module docstring)."""
        if not items:
            return
        with self.writing():
            self._room_for(items)
            self._write_articles(items)

    def _room_for(self, items: Sequence[tuple[ArticleRecord, Sequence[Chunk], np.ndarray]]) -> None:
        """Refuse a write that the disk cannot hold before any of it is written: Chroma, cut short
        by a full disk, leaves its log ahead of its metadata and cannot read even the articles
        committed before until space is freed."""
        if self._shared is None:
            return
        need, free = space_needed(items), free_space(self._shared.path)
        if free is not None and free < need:
            raise StoreError(
                f"the disk holding the {self.where} is full ({megabytes(free)} free; writing {len(items)} more "
                f"article(s) needs about {megabytes(need)}): free some space there, then run it again; the "
                "articles indexed so far are kept and can be read")

    def _write_articles(self, items: Sequence[tuple[ArticleRecord, Sequence[Chunk], np.ndarray]]) -> None:
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

    @_chroma("removing an article")
    def remove_article(self, article_id: str) -> None:
        """Delete an article and all its passages."""
        with self.writing():
            self._collection(create=True).delete(where={"article_id": article_id})
            self._registry_collection().delete(ids=[article_id])

    @_chroma("repairing an interrupted write")
    def repair(self, only: Callable[[ArticleRecord], bool] | None = None) -> list[Repair]:
        """Finish or undo writes a killed process left pending (only the records ``only`` accepts,
        when given, so that ingests of disjoint shards never undo each other's writes in progress);
        returns what it did to each."""
        if not self.exists():
            return []
        with self.writing():
            return self._repair(only)

    def _repair(self, only: Callable[[ArticleRecord], bool] | None) -> list[Repair]:
        repaired = []
        for record in self._records(include=["metadatas", "documents"], where={"status": "pending"}):
            if only is not None and not only(record):
                continue
            found = self._collection(create=True).get(
                where={"$and": [{"article_id": record.id}, {"version": record.version}]}, include=[]
            )
            previous = ArticleRecord(**json.loads(record.previous)) if record.previous else None
            finished = len(found["ids"]) == record.passages
            if finished:  # every new passage is there: roll forward
                if previous is not None and previous.version != record.version:
                    self._delete_version(record.id, previous.version)
                self._put_record(self._registry_collection(), replace(record, status="committed", previous=""))
            else:  # roll back to the previous version (whose passages are untouched), or to nothing
                self._delete_version(record.id, record.version)
                if previous is not None:
                    self._put_record(self._registry_collection(), previous)
                else:
                    self._registry_collection().delete(ids=[record.id])
            repaired.append(Repair(record.id, record.source, finished, new=previous is None))
        return repaired

    @_chroma("deleting passages")
    def delete_passages(self, ids: Sequence[str] = (), *, article_id: str | None = None) -> None:
        """Delete these passages, or all of one article's (its registry record stays)."""
        with self.writing():
            if article_id is not None:
                self._collection(create=True).delete(where={"article_id": article_id})
            if ids:
                self._collection(create=True).delete(ids=list(ids))

    @_chroma("emptying its passages")
    def reset_passages(self) -> Path | None:
        """Delete every passage and make the collection again with the same settings; the registry
        stays (``rag doctor --repair`` then embeds every article again from it). Chroma leaves the
        old vector index's folder behind: it is moved into ``damaged-<time>/``, which is returned."""
        with self.writing():
            manifest = self.manifest()
            old = self._shared.index_folder(self.name) if self._shared is not None else None
            try:
                self._client.delete_collection(self.name)  # deleting never loads the vector index
            except Exception as error:  # noqa: BLE001
                if type(error).__name__ not in _ABSENT:
                    raise
            self._passages = None
            self._undamaged(self.name)
            self._collection(create=True, manifest=manifest)
            return self._shared.move_aside([old]) if old is not None and old.exists() else None

    def _put_record(self, registry: Any, record: ArticleRecord) -> None:
        self._put_records(registry, [record])

    def _put_records(self, registry: Any, records: Sequence[ArticleRecord]) -> None:
        registry.upsert(ids=[r.id for r in records], embeddings=[_UNIT_VECTOR] * len(records),
                        documents=[r.text or " " for r in records], metadatas=[r._metadata() for r in records])

    def _delete_version(self, article_id: str, version: str) -> None:
        self._collection(create=True).delete(where={"$and": [{"article_id": article_id}, {"version": version}]})

    def _make(self, manifest: Manifest) -> None:
        self._collection(create=True, manifest=manifest)

def _uncovered(records: dict[str, ArticleRecord], spans: dict[str, list[tuple[int, int]]]) -> dict[str, int]:
    """Characters of each article's cleaned text (white space aside) in none of its passages, for
    the articles that have any."""
    counts = {i: uncovered(record.text, spans.get(i, ())) for i, record in records.items()}
    return {i: n for i, n in counts.items() if n}


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
