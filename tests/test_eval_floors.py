"""The eval as a regression test: the default answerer on the gold questions, against the floors in
evals/floors.json (set from measured numbers, just under them; raise them when the numbers rise)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.runner import HEADLINE
from evals.suite import run_suite
from rag.config import Config

FLOORS = Path(__file__).resolve().parents[1] / "evals" / "floors.json"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    floors = json.loads(FLOORS.read_text())
    config = Config()
    assert config.llm == floors["answerer"], "floors.json must be set for the default answerer"
    out = tmp_path_factory.mktemp("eval")
    (main,) = run_suite(config, answerers=[config.llm], out=out, baseline=False, progress=False)
    assert {p.name for p in out.iterdir()} == {"results.json", "report.md", "report.html"}
    return main, floors


def test_every_headline_metric_meets_its_floor(report) -> None:
    main, floors = report
    failures = []
    for metric, bound in floors["metrics"].items():
        value = main.metrics[metric]
        better = HEADLINE[metric][1]
        if value is None or (value < bound if better == "up" else value > bound):
            failures.append(f"{metric}: {value} ({'floor' if better == 'up' else 'ceiling'} {bound})")
    assert not failures, "eval regressed: " + "; ".join(failures)


def test_floors_cover_every_headline_metric(report) -> None:
    _, floors = report
    assert set(floors["metrics"]) == set(HEADLINE)
