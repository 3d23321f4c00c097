"""``rag doctor``: check a store against its registry of articles, and repair what it finds.

The registry keeps every article's cleaned text, so lost or damaged passages can be embedded
again without the article files: an article with missing passages, with vectors that cannot be
read, or with text that none of its passages covers (counted in characters, white space aside;
an older chunker left some lists and trailing headings out) gets its passages deleted, made again
from its text by the current chunker, and written again. Should even
that fail (the vector index cannot be loaded at all), the passage collection is made again and
every article embedded from the registry, and the damaged index's folder is moved into
``damaged-<time>/``. A damaged database (sqlite's own check, run first: Chroma reads past damage in
a part it does not need until a write meets it) or registry is beyond repair here: the error names
the rebuild from the article files.

Doctor is what a user runs when something is wrong, so it trusts no record of an earlier check:
it probes the vector indexes again in a throwaway process (:meth:`Store.verify`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from index.chunking import chunk
from index.embedding import Embedder
from index.errors import StoreError
from index.ingest import embed_and_write
from index.records import ArticleRecord, Health
from index.store import Store


@dataclass
class DoctorReport:
    """What ``rag doctor`` found (``before``), did (``actions``) and found afterwards (``after``)."""

    where: str
    before: Health
    actions: list[str] = field(default_factory=list)
    after: Health | None = None
    repair_command: str = "rag doctor --repair"  # for this store (``--store PATH`` ...)

    @property
    def ok(self) -> bool:
        return (self.after or self.before).ok

    def summary(self, titles: dict[str, str] | None = None) -> str:
        titles = titles or {}
        counted = "" if self.before.unloadable else \
            f", {self.before.uncovered_chars} characters of article text in no passage"
        lines = [f"{self.where}: {self.before.articles} articles, {self.before.passages} passages{counted}"]
        lines += _problems(self.before, titles) or ["  no problem found"]
        lines += _notes(self.after or self.before)
        if self.actions:
            lines.append("repaired:")
            lines += [f"  {action}" for action in self.actions]
        if self.after is not None:
            lines += (["after repair: still"] + _problems(self.after, titles)) if not self.after.ok \
                else ["after repair: no problem found"]
        elif not self.before.ok:
            lines.append(f"run `{self.repair_command}` to fix this (the registry's texts are embedded again; "
                         "no article file is needed)")
        return "\n".join(lines)


def doctor(store: Store, embedder: Callable[[], Embedder], embedding_model: str, *, repair: bool = False,
           deep: bool = False, batch_passages: int = 1024) -> DoctorReport:
    """Check ``store``; with ``repair``, fix what the check found and check again.

    ``embedder`` is called only when passages must be embedded again; ``embedding_model`` is the
    configured model's name, which must be the one the store was built with. ``deep`` checks the
    database with sqlite's full integrity check instead of its quick one."""
    store.verify()
    store.check_database(deep)
    report = DoctorReport(store.where, store.check(), repair_command=store.command("doctor --repair"))
    if not repair or report.before.ok:
        return report
    with store.writing():
        before = report.before
        if before.pending:
            repairs = store.repair()
            finished = sum(r.finished for r in repairs)
            if finished:
                report.actions.append(f"finished the interrupted write of {finished} article(s)")
            if len(repairs) - finished:
                report.actions.append(f"undid the unfinished write of {len(repairs) - finished} article(s) (each is "
                                      "as it was before it; run the ingest again to write them)")
        if before.orphans:
            store.delete_passages(before.orphans)
            report.actions.append(f"deleted {len(before.orphans)} passage(s) of no indexed article")
        damaged = before.damaged()
        if damaged:
            _embed_again(store, damaged, embedder, embedding_model, batch_passages, report)
    report.after = store.check()
    return report


def _embed_again(store: Store, damaged: set[str], embedder: Callable[[], Embedder], embedding_model: str,
                 batch_passages: int, report: DoctorReport) -> None:
    manifest = store.manifest()
    if manifest is None:
        raise StoreError(f"the {store.where} has lost its settings: build it again from the article files with "
                         f"`{store.command('ingest --rebuild <folders>')}`")
    if manifest.embedding_model != embedding_model:
        raise StoreError(f"the {store.where} was built with the embedding model {manifest.embedding_model}, "
                         f"not {embedding_model}: run "
                         f"`{store.command('doctor --repair --embedding-model ' + manifest.embedding_model)}`")
    records = store.articles(with_text=True)
    targets = [records[i] for i in sorted(damaged) if i in records]
    try:
        if report.before.unloadable:
            raise StoreError(report.before.unloadable)
        for record in targets:
            store.delete_passages(article_id=record.id)
        report.actions.append(f"embedded {len(targets)} article(s) again from the registry: "
                              + ", ".join(record.display_title() for record in targets[:5])
                              + (", ..." if len(targets) > 5 else ""))
    except StoreError:  # the vector index cannot even delete: start it afresh
        moved = store.reset_passages()
        targets = list(records.values())
        report.actions.append(f"made the passage collection again and embedded all {len(targets)} articles "
                              "from the registry")
        if moved is not None:
            report.actions.append(f"moved the damaged vector index to {moved} (delete it when all is well)")
    model = embedder()
    if model.dimension != manifest.dimension:
        raise StoreError(f"the embedding model gives {model.dimension}-d vectors, the {store.where} holds "
                         f"{manifest.dimension}-d ones: use the model it was built with")
    batch: list[tuple[ArticleRecord, list]] = []
    for record in targets:
        passages = chunk(record.text, record.id, record.version, manifest.chunk_sentences, manifest.chunk_overlap,
                         manifest.chunk_max_chars)
        batch.append((replace(record, passages=len(passages)), passages))  # the chunker may have changed
        if sum(len(p) for _, p in batch) >= batch_passages:
            embed_and_write(store, model, batch, manifest.passage_header)
            batch.clear()
    if batch:
        embed_and_write(store, model, batch, manifest.passage_header)


def _notes(health: Health) -> list[str]:
    """What is worth knowing but needs no repair."""
    unreachable = sum(health.unreachable.values())
    if not unreachable:
        return []
    return [f"  note: {unreachable} passage(s) in {len(health.unreachable)} article(s) are stored with their "
            "vectors but a vector search for them does not return them (the approximate index often leaves "
            "a passage unlinked among many identical ones); keyword search still finds them"]


def _problems(health: Health, titles: dict[str, str]) -> list[str]:
    name = lambda article_id: titles.get(article_id, article_id)  # noqa: E731
    lines = []
    if health.unloadable:
        return [f"  the passages cannot be read at all ({health.unloadable})"]
    updates = [source for source in health.pending if source not in health.pending_new]
    if updates:
        lines.append(f"  {len(updates)} article(s) with an unfinished update (read at their previous version until "
                     f"it is finished): {', '.join(updates[:5])}")
    if health.pending_new:
        lines.append(f"  {len(health.pending_new)} new article(s) with an unfinished write (not readable until it is "
                     f"finished): {', '.join(health.pending_new[:5])}")
    for article_id, what in list(health.incomplete.items())[:20]:
        lines.append(f"  {name(article_id)}: {what}")
    for article_id, lost in list(health.unreadable.items())[:20]:
        lines.append(f"  {name(article_id)}: {lost} passage vector(s) unreadable")
    left_out = {i: n for i, n in health.uncovered.items() if i not in health.incomplete and i not in health.unreadable}
    for article_id, chars in list(left_out.items())[:20]:
        lines.append(f"  {name(article_id)}: {chars} characters of its text are in no passage")
    hidden = sum(max(0, len(listed) - 20) for listed in (health.incomplete, health.unreadable, left_out))
    if hidden:
        lines.append(f"  ... {hidden} more")
    if health.orphans:
        lines.append(f"  {len(health.orphans)} passage(s) belong to no indexed article")
    return lines
