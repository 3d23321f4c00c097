"""The eval as a regression test: the default answerer on each suite's frozen test half, against
the floors in evals/floors.json (one question's worth under the measured numbers; raise them when
the numbers rise)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.runner import HEADLINE
from evals.suite import SUITES, load_suite, run_suites
from rag.config import Config

FLOORS = Path(__file__).resolve().parents[1] / "evals" / "floors.json"
#: Which way each floored metric is better: the headline ones, and SQuAD's gold span.
DIRECTION = {**{name: better for name, (_, better) in HEADLINE.items()}, "gold_span": "up"}


@pytest.fixture(scope="module")
def floors() -> dict:
    return json.loads(FLOORS.read_text())


@pytest.fixture(scope="module")
def reports(floors, tmp_path_factory: pytest.TempPathFactory) -> dict:
    config = Config()
    assert config.llm == floors["answerer"], "floors.json must be set for the default answerer"
    out = tmp_path_factory.mktemp("eval")
    suites = [load_suite(name, floors["split"]) for name in SUITES]
    found = run_suites(config, suites=suites, answerers=[config.llm], out=out, baseline=False, progress=False)
    assert {p.name for p in out.iterdir()} == {"results.json", "report.md", "report.html"}
    return {report.suite: report for report in found}


@pytest.mark.parametrize("suite", SUITES)
def test_every_floored_metric_of_the_test_half_holds(suite, floors, reports) -> None:
    report = reports[suite]
    failures = []
    for metric, bound in floors["suites"][suite].items():
        value = report.metrics[metric]
        if value is None or (value < bound if DIRECTION[metric] == "up" else value > bound):
            failures.append(f"{metric}: {value} ({'floor' if DIRECTION[metric] == 'up' else 'ceiling'} {bound})")
    assert not failures, f"eval regressed on {suite} ({floors['split']}): " + "; ".join(failures)


def test_floors_are_for_the_test_halves_and_cover_the_primary_metrics(floors) -> None:
    assert floors["split"] == "test" and set(floors["suites"]) == set(SUITES)
    for suite, bounds in floors["suites"].items():
        assert set(bounds) <= set(DIRECTION), suite
        primary = {"gold_span"} if suite == "squad" else {"key_fact_recall"}
        assert primary | {"citation_correct", "false_abstention", "recall@5"} <= set(bounds), suite
