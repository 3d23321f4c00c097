"""The reader (rag/reader): the shipped int8 ONNX model, loaded as the answering process loads it
(onnxruntime, no torch), on sentences written for this test (no seed, SQuAD or news text)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from index.errors import ModelError
from rag.reader import DEFAULT_MODEL, MODEL_DIR, Item, Reader, load_reader
from rag.reader.train import HELD_APART, TRAINING_DATA, held_apart
from tests.conftest import shared_data

KELMAR = [
    Item("The Varn river flows through Kelmar before it reaches the northern lake.", "Kelmar"),
    Item("Kelmar has a population of about 40,000 people, most of them fishermen.", "Kelmar"),
    Item("The town's mayor, Ilse Brandt, was elected in 2019 on a promise to dredge the harbour.", "Kelmar"),
    Item("Its harbour froze over in the winter of 1987 for the first time in a century.", "Kelmar"),
]


@pytest.fixture(scope="module")
def reader() -> Reader:
    shipped = load_reader("shipped")
    assert shipped is not None
    return shipped


@pytest.mark.parametrize("question, answer, words", [
    ("Which river flows through Kelmar?", 0, "Varn"),
    ("How many people live in Kelmar?", 1, "40,000"),
    ("Who is the mayor of Kelmar?", 2, "Ilse Brandt"),
    ("When did the harbour first freeze in a hundred years?", 3, "1987"),
])
def test_the_reader_picks_the_answering_sentence_and_marks_the_words(reader, question, answer, words) -> None:
    readings = reader.read(question, KELMAR)
    best = max(range(len(KELMAR)), key=lambda i: readings[i].p)
    assert best == answer, [round(r.p, 3) for r in readings]
    reading = readings[answer]
    assert reading.p > 5 * max(r.p for i, r in enumerate(readings) if i != answer)
    assert words in KELMAR[answer].sentence[reading.start:reading.end]


def test_a_near_miss_scores_below_the_question_it_was_made_from(reader) -> None:
    """SQuAD 2.0's kind of unanswerable question: the sentence is about it, but says something else."""
    asked = reader.read("Who is the mayor of Kelmar?", KELMAR[2:3])[0].p
    missed = reader.read("Who is the mayor of Varnhold?", KELMAR[2:3])[0].p
    assert missed < asked


def test_the_shipped_reader_is_shared_and_can_be_turned_off() -> None:
    assert load_reader("shipped") is load_reader("shipped")
    assert load_reader("none") is None
    with pytest.raises(ModelError, match="reader_model"):
        load_reader("/no/such/reader.onnx")


def test_a_damaged_model_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "reader.onnx"
    broken.write_bytes(DEFAULT_MODEL.read_bytes()[:5000])
    with pytest.raises(ModelError, match="could not be loaded.*python -m rag.reader.train"):
        Reader(broken).read("Which river?", KELMAR[:1])


def test_the_training_data_is_the_frozen_files_and_the_held_apart_articles_stay_out() -> None:
    """Both training files are the frozen ones (read from the shared data, as training reads them);
    together they are every SQuAD train article; no dev article is among them; the held-apart rule
    keeps the named articles and about one in twenty out."""
    titles = []
    for name, sha256 in TRAINING_DATA.items():
        raw = shared_data(name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == sha256
        titles += [a["title"] for a in json.loads(raw)["data"]]
    assert len(titles) == len(set(titles)) == 442 and set(HELD_APART) <= set(titles)
    assert "Normans" not in titles
    held = [t for t in titles if held_apart(t)]
    assert set(HELD_APART) <= set(held) and 15 <= len(held) <= 35


def test_the_shipped_models_figures_are_recorded_beside_it() -> None:
    metrics = json.loads((MODEL_DIR / "metrics.json").read_text())
    assert metrics["settings"]["seed"] == 13
    # The figures the model card reports were measured on the held-apart article's questions and
    # on both halves of the SQuAD suite's article (python -m evals.reader --record).
    assert set(metrics["reader-int8.onnx"]) == set(HELD_APART)
    assert metrics["reader-int8.onnx"][HELD_APART[0]]["questions"]["answerable"] > 0
    normans = metrics["normans"]["reader-int8.onnx"]
    assert all(normans[f"normans-{s}"]["questions"]["unanswerable"] > 0 for s in ("dev", "test"))


def test_the_reader_is_measured_on_the_squad_suites_halves_as_the_suite_splits_them() -> None:
    """``python -m evals.reader`` reads "Normans" (never trained on) with the suite's own split."""
    from evals import squad
    from evals.reader import normans_sets

    sets = normans_sets(["dev", "test"])
    split_of = {q["id"]: q["split"] for q in squad.load()[2]}
    for split in ("dev", "test"):
        (items, questions), = sets[f"normans-{split}"]
        assert {split_of[q.id] for q in questions} == {split}
        assert {q.answerable for q in questions} == {True, False}
        assert all(q.gold is not None and q.answers[0] in items[q.gold].sentence for q in questions if q.answerable)
    dev, test = ({q.id for q in sets[f"normans-{s}"][0][1]} for s in ("dev", "test"))
    assert not dev & test
