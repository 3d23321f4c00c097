"""Fit the answer policy's abstention model on the development questions only.

    .venv/bin/python scripts/fit_abstention.py [--grid]

Indexes the seeds and the SQuAD slice into temporary stores (as ``rag eval`` does), runs the
policy on every ``dev`` question (never ``test``; the news suite is all test and is not read),
and fits a logistic regression of "the articles answer it" (the gold ``answerable``) on the
policy's features (:data:`rag.policy.FEATURES`), with a small L2 penalty. Prints the weights to
paste into ``rag/policy.py`` and the trade-off (correct against false abstention) by threshold.
With ``--grid``, also scores the sentence scorer's weights (cosine weight, type bonus) by how
often the composed answer holds the gold facts on the answerable dev questions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.judge import has_gold_span  # noqa: E402
from evals.metrics import key_fact_scores  # noqa: E402
from evals.suite import load_suite  # noqa: E402
from rag.config import Config  # noqa: E402
from rag.policy import FEATURES, FusedScorer  # noqa: E402


def collect(config: Config, embedder, grid: list[tuple[float, float]]):
    from rag.assistant import build_assistant
    from rag.build import ingest_paths
    from rag.text import fold

    rows = []
    for name in ("seeds", "squad"):
        suite = load_suite(name, "dev")
        with tempfile.TemporaryDirectory() as folder:
            articles = suite.folder(Path(folder))
            local = config.replace(store_path=Path(folder) / "store")
            ingest_paths(local, [articles], progress=False, embedder=lambda: embedder)
            assistant = build_assistant(local, embedder=embedder)
            for gold in suite.questions:
                analysis = assistant.analyser.analyse(gold["question"], gold.get("history") or None)
                passages = assistant.retriever.retrieve(analysis.standalone, top_k=assistant.config.top_k)
                texts = assistant._texts(passages)
                corpus = fold(" ".join(p.title for p in passages) + " " + " ".join(texts.values()))
                unseen = sum(not assistant.retriever.known(t) for t in analysis.terms)
                right = {}
                for weights in grid:
                    policy = assistant.policy
                    scorer: FusedScorer = policy.scorer
                    scorer.cosine_weight, scorer.type_bonus = weights
                    decision = policy.decide(analysis, passages, corpus, unseen)
                    text = " ".join(c.text for c in (decision.disagreement or decision.chosen or
                                                     policy.composer.compose(analysis, decision.candidates)))
                    if "answers" in gold:
                        right[weights] = float(bool(gold["answers"]) and has_gold_span(text, gold["answers"]))
                    else:
                        right[weights] = key_fact_scores(text, gold["key_facts"]).get("key_fact_recall", 0.0) \
                            if gold["key_facts"] else 0.0
                scorer.cosine_weight, scorer.type_bonus = grid[0]
                decision = policy.decide(analysis, passages, corpus, unseen)
                rows.append((name, gold["id"], gold["answerable"], [decision.features[f] for f in FEATURES], right))
    return rows


def fit(x: np.ndarray, y: np.ndarray, sample: np.ndarray, l2: float = 1.0, steps: int = 20000, rate: float = 0.5):
    """Weighted logistic regression by gradient descent on standardised features; weights returned
    for the raw features."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale
    w, b = np.zeros(x.shape[1]), 0.0
    sample = sample / sample.sum()
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= rate * (z.T @ (sample * (p - y)) + l2 * w / len(y))
        b -= rate * float(np.sum(sample * (p - y)))
    return w / scale, b - float(np.sum(w * mean / scale))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--dump", help="write each question's features to this JSON file")
    args = parser.parse_args()
    from rag.build import embedder_factory

    config = Config()
    embedder = embedder_factory(config)()
    grid = [(1.0, 0.15)]
    if args.grid:
        grid += [(c, t) for c in (0.5, 1.0, 2.0, 3.0) for t in (0.0, 0.15, 0.3, 0.6) if (c, t) != (1.0, 0.15)]
    rows = collect(config, embedder, grid)
    if args.dump:
        import json

        Path(args.dump).write_text(json.dumps([(n, i, a, f, [right[g] for g in grid]) for n, i, a, f, right in rows]))
    for weights in grid:
        by_suite = {}
        for name, _, answerable, _, right in rows:
            if answerable:
                by_suite.setdefault(name, []).append(right[weights])
        print(f"cosine_weight={weights[0]} type_bonus={weights[1]}: " +
              ", ".join(f"{k} {np.mean(v):.3f}" for k, v in by_suite.items()))
    x = np.array([r[3] for r in rows])
    y = np.array([float(r[2]) for r in rows])
    # Each suite weighs the same, so the many SQuAD questions do not drown the seeds.
    suites = np.array([r[0] for r in rows])
    sample = np.array([1.0 / np.sum(suites == r[0]) for r in rows])
    w, b = fit(x, y, sample)
    print("WEIGHTS = {" + ", ".join(f'"{f}": {v:.3f}' for f, v in zip(FEATURES, w)) + "}")
    print(f"BIAS = {b:.3f}")
    p = 1 / (1 + np.exp(-(x @ w + b)))
    print("threshold | " + " | ".join(f"{n} correct / false abstention" for n in ("seeds", "squad")))
    for t in np.arange(0.1, 0.95, 0.05):
        cells = []
        for name in ("seeds", "squad"):
            mask = suites == name
            cells.append(f"{np.mean(p[mask & (y == 0)] < t):.2f} / {np.mean(p[mask & (y == 1)] < t):.2f}")
        print(f"{t:.2f} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
