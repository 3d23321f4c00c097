"""Fit the answer policy's abstention model on the development questions only.

    .venv/bin/python scripts/fit_abstention.py [--grid]

Indexes each suite's dev articles into temporary stores (as ``rag eval`` does), runs the policy
on every ``dev`` question of the seeds, the SQuAD slice and the news dev set (never ``test``), and
the news dev questions again, with the 171 dev questions written for the whole corpus
(``evals/data/bbc_scale_dev_questions.jsonl``), against the whole BBC corpus (the group
``news@bbc``: the store ``benchmarks.quality`` uses, built once in its cache; abstention must hold
where users are, in collections of thousands of articles). It fits a logistic regression of "the
articles answer it" (the gold ``answerable``) on the policy's features
(:data:`rag.policy.FEATURES`), each group weighing the same. The L2 penalty is the one with the
best mean AUC over the groups in 10-fold cross-validation on those same dev questions. Prints the
weights to paste into ``rag/policy.py``, the trade-off (correct against false abstention) per
group by threshold, and the threshold ``abstain_threshold`` takes: the one (in steps of 0.01) with
the most correct abstention, averaged over the groups, among those whose
average false abstention is at most :data:`MAX_FALSE_ABSTENTION`. A user refused an answer the
articles hold, one time in ten at most, is the constraint; the issue's ceilings are 0.05-0.10.
With ``--grid``, also scores the sentence scorer's weights (cosine weight, type bonus) by how
often the composed answer holds the gold facts on the answerable dev questions. The SQuAD and news
suites read the public data (``../shared/data`` beside the project, ``$RAG_DATA`` or ``--data``);
without it the script stops before any work, saying what is missing and where it comes from.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.judge import has_gold_span  # noqa: E402
from evals.metrics import key_fact_scores  # noqa: E402
from evals.suite import load_suite, missing_data, scale_dev_questions  # noqa: E402
from rag import public_data  # noqa: E402
from rag.config import Config  # noqa: E402
from rag.policy import FEATURES, ReaderScorer  # noqa: E402

DEV_SUITES = ("seeds", "squad", "news")
#: The news dev questions asked of the whole BBC corpus: where users are, thousands of articles.
SCALE_GROUP = "news@bbc"
GROUPS = (*DEV_SUITES, SCALE_GROUP)
PENALTIES = (1.0, 10.0, 50.0, 200.0)
#: The side of zero each feature's weight may take with ``--signed``: +1 where more of it is
#: evidence that the articles answer (words, meaning and the reader's chances found), -1 where more
#: of it is evidence that they do not (the question's names, dates and words missing or unseen).
#: Fixed from what each feature measures, not from any fit.
SIGNS = {"coverage": 1, "cosine": 1, "similarity": 1, "typed": 1, "missing_names": -1, "unseen": -1,
         "missing_dates": -1, "missing_words": -1, "rarest_missing": -1, "unseen_nouns": -1, "date_conflict": -1,
         "reader": 1, "passage_reader": 1}
MAX_FALSE_ABSTENTION = 0.10


def collect(config: Config, embedder, grid: list[tuple[float, float]], groups: tuple[str, ...] = GROUPS):
    """Per dev question: (group, id, answerable, features, {grid point: gold found in the answer}).
    A group is a suite asked of its own dev articles, or ``news@bbc``: the news dev questions asked
    of the whole BBC corpus (the store ``benchmarks.quality`` uses, built once in its cache). A grid
    point is (cosine weight, type bonus) of the fused scorer, or with the reader, (fused weight,
    type bonus) of the reader's scorer."""
    from rag.build import ingest_paths

    rows = []
    for name in groups:
        suite = load_suite(name.split("@")[0], "dev")
        if name == SCALE_GROUP:
            from benchmarks import common

            store = common.prepared_store("bbc")
            suite.questions = suite.questions + scale_dev_questions()  # 50 + 171, all dev
            rows += _collect_group(name, suite, config.replace(store_path=store), embedder, grid)
            continue
        with tempfile.TemporaryDirectory() as folder:
            articles = suite.folder(Path(folder))
            local = config.replace(store_path=Path(folder) / "store")
            ingest_paths(local, [articles], progress=False, embedder=lambda: embedder)
            rows += _collect_group(name, suite, local, embedder, grid)
    return rows


def _collect_group(name: str, suite, config: Config, embedder, grid: list[tuple[float, float]]):
    from rag.assistant import build_assistant

    rows = []
    assistant = build_assistant(config, embedder=embedder)
    policy = assistant.policy
    scorer = policy.scorer
    knobs = ("fused_weight", "type_bonus") if isinstance(scorer, ReaderScorer) else ("cosine_weight", "type_bonus")
    for gold in suite.questions:
        analysis = assistant.questions.analyser.analyse(gold["question"], gold.get("history") or None)
        passages = assistant.retriever.retrieve(analysis.standalone, top_k=assistant.config.top_k,
                                                asked=analysis.question)
        right = {}
        for weights in grid:
            for knob, value in zip(knobs, weights):
                setattr(scorer, knob, value)
            decision = policy.judge(analysis, passages, assistant.corpus)
            text = " ".join(c.text for c in (decision.disagreement or decision.chosen or
                                             policy.composer.compose(analysis, decision.candidates)))
            if "answers" in gold:
                right[weights] = float(bool(gold["answers"]) and has_gold_span(text, gold["answers"]))
            else:
                right[weights] = key_fact_scores(text, gold["key_facts"]).get("key_fact_recall", 0.0) \
                    if gold["key_facts"] else 0.0
        for knob, value in zip(knobs, grid[0]):
            setattr(scorer, knob, value)
        decision = policy.judge(analysis, passages, assistant.corpus)
        rows.append((name, gold["id"], gold["answerable"], [decision.features[f] for f in FEATURES], right))
    return rows


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The chance that an answerable question scores above an unanswerable one (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    return float(np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])))


def cross_validated_auc(x: np.ndarray, y: np.ndarray, sample: np.ndarray, suites: np.ndarray, l2: float,
                        folds: int = 10, signs: np.ndarray | None = None) -> float:
    """Mean over the suites of the AUC of out-of-fold predictions (folds fixed by a seeded shuffle)."""
    order = np.random.default_rng(0).permutation(len(y))
    p = np.zeros(len(y))
    for k in range(folds):
        held = order[k::folds]
        kept = np.setdiff1d(order, held)
        w, b = fit(x[kept], y[kept], sample[kept], l2=l2, steps=4000, signs=signs)
        p[held] = 1 / (1 + np.exp(-(x[held] @ w + b)))
    return float(np.nanmean([auc(p[suites == n], y[suites == n]) for n in dict.fromkeys(suites)]))


def fit(x: np.ndarray, y: np.ndarray, sample: np.ndarray, l2: float = 1.0, steps: int = 20000, rate: float = 0.5,
        signs: np.ndarray | None = None):
    """Weighted logistic regression by gradient descent on standardised features; weights returned
    for the raw features. With ``signs`` (+1, -1 or 0 per feature), each weight is kept on its
    side of zero (projected gradient descent; 0: either side)."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale
    w, b = np.zeros(x.shape[1]), 0.0
    sample = sample / sample.sum()
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= rate * (z.T @ (sample * (p - y)) + l2 * w / len(y))
        b -= rate * float(np.sum(sample * (p - y)))
        if signs is not None:
            w = np.where(signs * w < 0, 0.0, w)
    return w / scale, b - float(np.sum(w * mean / scale))


def write_fit(root: Path, weights: dict[str, float], bias: float, threshold: float) -> None:
    """Put a fit into the checkout at ``root``: ``WEIGHTS``, ``BIAS`` and ``THRESHOLD`` in
    ``rag/policy.py`` and the default of ``abstain_threshold`` in ``rag/config.py`` (what
    ``--write`` does in a scratch checkout that judges a reader; the comments that say how the
    shipped fit was made, and the docs that quote the threshold, are left for a person to update)."""
    policy = root / "rag" / "policy.py"
    text = policy.read_text()
    pairs = [f'"{f}": {weights.get(f, 0.0):.3f}' for f in FEATURES]
    lines, line = [], "WEIGHTS = {"
    for k, pair in enumerate(pairs):
        piece = pair + (", " if k < len(pairs) - 1 else "}")
        if len(line) + len(piece.rstrip()) > 119:
            lines.append(line.rstrip())
            line = " " * len("WEIGHTS = {")
        line += piece
    block = "\n".join(lines + [line]) + f"\nBIAS = {bias:.3f}"
    text, n = re.subn(r"WEIGHTS = \{.*?\}\nBIAS = -?[0-9.]+", lambda _: block, text, count=1, flags=re.S)
    text, m = re.subn(r"^THRESHOLD = [0-9.]+$", f"THRESHOLD = {threshold:.2f}", text, count=1, flags=re.M)
    config = root / "rag" / "config.py"
    settings, k = re.subn(r"(abstain_threshold: float = Field\(\s*)[0-9.]+", rf"\g<1>{threshold:.2f}",
                          config.read_text(), count=1)
    if not (n and m and k):
        sys.exit(f"could not find WEIGHTS, BIAS and THRESHOLD in {policy} or abstain_threshold in {config}")
    policy.write_text(text)
    config.write_text(settings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--dump", help="write each question's features to this JSON file")
    parser.add_argument("--load", help="fit on the features of an earlier --dump instead of running the policy")
    parser.add_argument("--reader", default="shipped", help="reader_model to run the policy with ('none': without)")
    parser.add_argument("--drop", default="", help="comma-separated features to leave out of the fit")
    parser.add_argument("--signed", action="store_true",
                        help="keep each weight on the side of zero its feature's meaning gives it (SIGNS)")
    parser.add_argument("--ablate", action="store_true",
                        help="also print the cross-validated AUC with each feature left out in turn")
    parser.add_argument("--groups", nargs="+", choices=GROUPS, default=list(GROUPS),
                        help=f"what to fit on: suites on their own dev articles, and {SCALE_GROUP} (the news dev "
                             "questions against the whole BBC corpus); each group weighs the same")
    parser.add_argument("--data", metavar="DIR", help=f"the public data folder (default: ${public_data.ENV}, "
                        "else ../shared/data beside the project)")
    parser.add_argument("--write", action="store_true",
                        help="put the weights and the threshold into this checkout's rag/policy.py and rag/config.py "
                             "(for a scratch checkout that judges a reader: scripts/judge_reader.sh)")
    args = parser.parse_args()
    if args.data:
        public_data.use(args.data)
    problems = [problem for name in args.groups for problem in missing_data(name.split("@")[0])]
    if problems and not args.load:
        sys.exit("error: " + "\n".join(problems))
    from rag.build import embedder_factory

    config = Config(reader_model=args.reader)
    if args.load:
        rows = [(n, i, a, f, dict(zip(map(tuple, g), r))) for n, i, a, f, g, r in json.loads(Path(args.load).read_text())]
        grid = list(rows[0][4])
    else:
        embedder = embedder_factory(config)()
        reader = config.reader_model != "none"
        grid = [(1.0, 0.0) if reader else (1.0, 0.15)]
        if args.grid:
            values = (0.0, 0.25, 0.5, 1.0, 2.0) if reader else (0.5, 1.0, 2.0, 3.0)
            grid += [(c, t) for c in values for t in (0.0, 0.15, 0.3) if (c, t) != grid[0]]
        rows = collect(config, embedder, grid, tuple(args.groups))
    if args.dump:
        Path(args.dump).write_text(json.dumps([(n, i, a, f, grid, [right[g] for g in grid])
                                               for n, i, a, f, right in rows]))
    for weights in grid:
        by_suite = {}
        for name, _, answerable, _, right in rows:
            if answerable:
                by_suite.setdefault(name, []).append(right[weights])
        print(f"{'fused_weight' if args.reader != 'none' else 'cosine_weight'}={weights[0]} type_bonus={weights[1]}: " +
              ", ".join(f"{k} {np.mean(v):.3f}" for k, v in by_suite.items()))
    used = [i for i, f in enumerate(FEATURES) if f not in args.drop.split(",")]
    x = np.array([[r[3][i] for i in used] for r in rows])
    y = np.array([float(r[2]) for r in rows])
    # Each group weighs the same, so the many SQuAD questions do not drown the others.
    suites = np.array([r[0] for r in rows])
    groups = list(dict.fromkeys(suites))
    sample = np.array([1.0 / np.sum(suites == r[0]) for r in rows])
    signs = np.array([SIGNS[FEATURES[i]] for i in used], dtype=float) if args.signed else None
    scores = {l2: cross_validated_auc(x, y, sample, suites, l2, signs=signs) for l2 in PENALTIES}
    print("10-fold cross-validated AUC (mean over suites) by L2 penalty: "
          + ", ".join(f"{l2:g}: {v:.3f}" for l2, v in scores.items()))
    l2 = max(scores, key=scores.get)
    if args.ablate:
        for k, i in enumerate(used):
            kept = [j for j in range(len(used)) if j != k]
            print(f"  without {FEATURES[i]}: "
                  f"{cross_validated_auc(x[:, kept], y, sample, suites, l2, signs=None if signs is None else signs[kept]):.3f}")
    w, b = fit(x, y, sample, l2=l2, signs=signs)
    weights = dict(zip([FEATURES[i] for i in used], w))
    print(f"L2 = {l2:g}")
    print("WEIGHTS = {" + ", ".join(f'"{f}": {weights.get(f, 0.0):.3f}' for f in FEATURES) + "}")
    print(f"BIAS = {b:.3f}")
    p = 1 / (1 + np.exp(-(x @ w + b)))

    def rates(t: float) -> list[tuple[float, float]]:
        return [(float(np.mean(p[(suites == n) & (y == 0)] < t)), float(np.mean(p[(suites == n) & (y == 1)] < t)))
                for n in groups]

    print("threshold | " + " | ".join(f"{n} correct / false abstention" for n in groups) + " | mean")
    for t in np.arange(0.1, 0.95, 0.05):
        cells = rates(t)
        print(f"{t:.2f} | " + " | ".join(f"{c:.2f} / {f:.2f}" for c, f in cells)
              + f" | {np.mean([c for c, _ in cells]):.2f} / {np.mean([f for _, f in cells]):.3f}")
    allowed = [t for t in np.arange(0.0, 1.0, 0.01) if np.mean([f for _, f in rates(t)]) <= MAX_FALSE_ABSTENTION]
    best = max(allowed, key=lambda t: (np.mean([c for c, _ in rates(t)]), -t))
    cells = rates(best)
    print(f"abstain_threshold = {best:.2f}: mean correct abstention {np.mean([c for c, _ in cells]):.2f}, "
          f"mean false abstention {np.mean([f for _, f in cells]):.3f} (at most {MAX_FALSE_ABSTENTION})")
    if args.write:
        root = Path(__file__).resolve().parents[1]
        write_fit(root, weights, b, best)
        print(f"wrote the weights and the threshold into {root}/rag/policy.py and rag/config.py")


if __name__ == "__main__":
    main()
