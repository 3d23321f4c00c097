"""Ingest bookkeeping against real Chroma: embedded in a temp folder and a real server on loopback.

The hash embedder stands in for the model: these tests are about what is stored, skipped,
replaced and repaired, not about retrieval quality (tests/test_embedding.py covers that).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from index.errors import StoreError
from index.ingest import ChunkSettings, ingest
from index.store import Store
from tests.fakes import HashEmbedder


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "embedded":
        return Store.open(path=tmp_path / "store")
    host, port = request.getfixturevalue("chroma_server")
    return Store.open(host=host, port=port, collection=f"t{uuid.uuid4().hex[:12]}")


def run(paths, store: Store, embedder: HashEmbedder, **options):
    return ingest(list(paths), store, lambda: embedder, embedder.name, progress=False, **options)


def assert_consistent(store: Store) -> None:
    """Every committed article has exactly its passages, and there are no others."""
    articles = store.articles(with_text=True)
    passages = list(store.passages())
    by_article: dict[str, list] = {}
    for hit in passages:
        by_article.setdefault(hit.metadata["article_id"], []).append(hit)
    assert set(by_article) == set(articles), "passages of unregistered articles, or articles without passages"
    for article_id, record in articles.items():
        hits = by_article[article_id]
        assert len(hits) == record.passages, f"{record.source}: {len(hits)} passages, expected {record.passages}"
        assert {h.metadata["version"] for h in hits} == {record.version}, f"{record.source}: mixed versions"
        for hit in hits:
            assert record.text[hit.metadata["start"]:hit.metadata["end"]] == hit.text


def test_second_ingest_skips_everything_and_embeds_nothing(store: Store, seed_copy: Path) -> None:
    embedder = HashEmbedder()
    first = run([seed_copy], store, embedder)
    assert len(first.added) == 5 and first.passages_embedded == store.count() > 40
    calls = embedder.calls
    second = run([seed_copy], store, lambda_never_called := HashEmbedder())
    assert len(second.unchanged) == 5 and not second.added and not second.updated
    assert second.passages_embedded == 0 and lambda_never_called.calls == 0 and embedder.calls == calls
    assert_consistent(store)


def test_the_model_is_not_even_loaded_when_nothing_changed(store: Store, seed_copy: Path) -> None:
    embedder = HashEmbedder()
    run([seed_copy], store, embedder)

    def must_not_load():
        raise AssertionError("the embedding model was loaded for an unchanged corpus")

    report = ingest([seed_copy], store, must_not_load, embedder.name, progress=False)
    assert len(report.unchanged) == 5


def test_an_unchanged_file_is_not_even_cleaned_again(store: Store, seed_copy: Path, monkeypatch) -> None:
    import index.ingest

    run([seed_copy], store, HashEmbedder())
    target = seed_copy / "002_1ae0d73ebc0c7739.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nSign in to comment\n", encoding="utf-8")
    cleaned: list[str] = []
    real_clean = index.ingest.clean
    monkeypatch.setattr(index.ingest, "clean",
                        lambda text, kind, *rest: cleaned.append(text) or real_clean(text, kind, *rest))

    report = run([seed_copy], store, HashEmbedder())
    assert len(report.unchanged) == 5 and len(cleaned) == 1  # only the file whose bytes changed (furniture)
    cleaned.clear()
    monkeypatch.setattr(index.ingest, "CLEANER_VERSION", index.ingest.CLEANER_VERSION + 1)
    report = run([seed_copy], store, HashEmbedder())  # a new cleaner: every file is cleaned again
    assert len(report.unchanged) == 5 and len(cleaned) == 5


def test_changed_article_is_replaced_and_removed_one_pruned(store: Store, seed_copy: Path) -> None:
    embedder = HashEmbedder()
    run([seed_copy], store, embedder)
    changed = seed_copy / "003_d89c9a04b964dece.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA new closing sentence was added to the article today.\n",
                       encoding="utf-8")
    (seed_copy / "000_3ccfcf2aa8ed14ca.txt").unlink()
    report = run([seed_copy], store, embedder)
    assert [Path(s).name for s in report.updated] == ["003_d89c9a04b964dece.txt"]
    assert len(report.unchanged) == 3 and not report.removed
    assert len(store.articles()) == 5  # without --prune the gone article stays
    report = run([seed_copy], store, embedder, prune=True)
    assert [Path(s).name for s in report.removed] == ["000_3ccfcf2aa8ed14ca.txt"]
    assert len(store.articles()) == 4
    assert any("A new closing sentence" in hit.text for hit in store.passages())
    assert_consistent(store)


def test_bad_files_are_reported_and_the_rest_indexed(store: Store, seed_copy: Path, tmp_path: Path) -> None:
    (seed_copy / "empty.txt").write_bytes(b"")
    (seed_copy / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (seed_copy / "copy-of-004.md").write_bytes((seed_copy / "004_f737e705128ea97f.txt").read_bytes())
    with open(seed_copy / "huge.txt", "wb") as handle:
        handle.truncate(50_000_000)
    (tmp_path / "no-articles").mkdir()
    report = run([seed_copy, tmp_path / "missing", tmp_path / "no-articles"], store, HashEmbedder())
    reasons = {Path(p.source).name: p.reason for p in report.skipped}
    assert reasons["empty.txt"].startswith("empty file")
    assert reasons["binary.txt"].startswith("binary file")
    assert reasons["huge.txt"].startswith("file is 50.0 MB")
    assert reasons["missing"].startswith("does not exist")
    assert reasons["no-articles"].startswith("folder has no article files")
    duplicate = [r for name, r in reasons.items() if name in {"copy-of-004.md", "004_f737e705128ea97f.txt"}]
    assert len(duplicate) == 1 and duplicate[0].startswith("duplicate of ")
    assert len(report.added) == 5 and len(store.articles()) == 5
    assert_consistent(store)


def test_duplicate_of_an_already_indexed_article(store: Store, seed_copy: Path, tmp_path: Path) -> None:
    run([seed_copy], store, HashEmbedder())
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(seed_copy / "001_e1a75e9ba97278eb.txt", other / "renamed.txt")
    report = run([other], store, HashEmbedder())
    assert report.skipped[0].reason.startswith("duplicate of ") and "001_e1a75e9ba97278eb.txt" in report.skipped[0].reason


def test_store_built_with_other_settings_is_refused_with_the_rebuild_command(store: Store, seed_copy: Path) -> None:
    run([seed_copy], store, HashEmbedder())
    with pytest.raises(StoreError) as error:
        run([seed_copy], store, HashEmbedder(), chunking=ChunkSettings(sentences=6))
    message = str(error.value)
    assert "chunk_sentences: 4 (store) vs 6 (now)" in message and store.command("ingest --rebuild <folders>") in message
    other_model = HashEmbedder()
    other_model.name = "another-model"
    with pytest.raises(StoreError, match="embedding_model: 'test-hash-embedder' \\(store\\) vs 'another-model'"):
        run([seed_copy], store, other_model)


class _Crash(Exception):
    pass


def test_interrupted_write_is_rolled_back_or_forward(store: Store, seed_copy: Path, monkeypatch) -> None:
    """Simulate a crash at each step of the write protocol; repair leaves every article whole."""
    embedder = HashEmbedder()
    run([seed_copy], store, embedder)
    target = seed_copy / "004_f737e705128ea97f.txt"
    before = {r.source: r.version for r in store.articles().values()}

    # Crash after the new passages were added but before the old ones were deleted: roll forward.
    target.write_text(target.read_text(encoding="utf-8") + "\nAn added sentence changes the version now.\n",
                      encoding="utf-8")
    original_delete = Store._delete_version

    def crash_on_deleting_the_old_version(self, article_id, version):
        raise _Crash()

    monkeypatch.setattr(Store, "_delete_version", crash_on_deleting_the_old_version)
    with pytest.raises(_Crash):
        run([seed_copy], store, embedder)
    monkeypatch.setattr(Store, "_delete_version", original_delete)
    assert [r.source for r in store.repair()] == [next(s for s in before if s.endswith("004_f737e705128ea97f.txt"))]
    assert_consistent(store)
    assert any("An added sentence" in hit.text for hit in store.passages())

    # Crash in the middle of adding the new passages: roll back to the last good version.
    target.write_text(target.read_text(encoding="utf-8") + "\nYet another sentence for a third version.\n",
                      encoding="utf-8")
    committed = {r.source: r.version for r in store.articles().values()}
    store.write_batch = 3
    real_upsert = type(store._collection(create=True)).upsert
    added = {"n": 0}

    def crash_on_second_batch(collection, *args, **kwargs):
        if collection.name == store.name:  # a batch of passages, not a registry record
            added["n"] += 1
            if added["n"] == 2:
                raise _Crash()
        return real_upsert(collection, *args, **kwargs)

    monkeypatch.setattr(type(store._collection(create=True)), "upsert", crash_on_second_batch)
    with pytest.raises(_Crash):
        run([seed_copy], store, embedder)
    monkeypatch.undo()
    store.repair()
    assert {r.source: r.version for r in store.articles().values()} == committed
    assert not any("Yet another sentence" in hit.text for hit in store.passages())
    assert_consistent(store)
    # and the next ingest completes the change
    report = run([seed_copy], store, embedder)
    assert len(report.updated) == 1
    assert_consistent(store)


def test_an_ingest_leaves_another_shards_unfinished_write_alone(store: Store, seed_copy: Path, tmp_path: Path,
                                                                monkeypatch) -> None:
    """Workers ingesting disjoint shards into one Chroma server must not undo each other's writes."""
    shard_a, shard_b = tmp_path / "a", tmp_path / "b"
    shard_a.mkdir(), shard_b.mkdir()
    shutil.move(seed_copy / "004_f737e705128ea97f.txt", shard_a)
    shutil.move(seed_copy / "001_e1a75e9ba97278eb.txt", shard_b)
    real_upsert = type(store._collection(create=True)).upsert

    def crash_while_adding_passages(collection, *args, **kwargs):
        if collection.name == store.name:
            raise _Crash()
        return real_upsert(collection, *args, **kwargs)

    monkeypatch.setattr(type(store._collection(create=True)), "upsert", crash_while_adding_passages)
    with pytest.raises(_Crash):  # shard A's write is "in progress": its record is pending
        run([shard_a], store, HashEmbedder())
    monkeypatch.undo()

    report = run([shard_b], store, HashEmbedder())
    assert report.repaired == [] and len(report.added) == 1
    pending = store._records(include=["metadatas"], where={"status": "pending"})
    assert [r.source.rsplit("/", 1)[-1] for r in pending] == ["004_f737e705128ea97f.txt"]
    report = run([shard_a], store, HashEmbedder())
    assert len(report.repaired) == 1 and report.repaired[0].source.endswith("004_f737e705128ea97f.txt")
    assert len(report.added) == 1 and len(store.articles()) == 2
    assert_consistent(store)


def test_two_writers_on_one_embedded_store_are_refused(tmp_path: Path, seed_copy: Path) -> None:
    import fcntl

    store = Store.open(path=tmp_path / "store")
    with open(tmp_path / "store" / ".ingest.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(StoreError, match="is writing to the store"):
            run([seed_copy], store, HashEmbedder())


def test_unreachable_server_is_one_clear_error() -> None:
    from tests.conftest import free_port

    with pytest.raises(StoreError, match=r"cannot reach the Chroma server 127\.0\.0\.1:\d+.*chroma run"):
        Store.open(host="127.0.0.1", port=free_port())


def test_query_side_refuses_an_empty_store(tmp_path: Path) -> None:
    from index.records import Manifest

    store = Store.open(path=tmp_path / "nothing")
    with pytest.raises(StoreError, match=f"no articles indexed .* run `rag --store {tmp_path / 'nothing'} ingest seeds/`"):
        store.check_manifest(Manifest("m", 3, 4, 1, 900), create=False)
