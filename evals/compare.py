"""Two ``rag eval`` runs compared question by question (before and after a change):

    python -m evals.compare BEFORE AFTER      # folders (or results.json files) that rag eval --out wrote
    python -m evals.compare BEFORE AFTER --pool "news at scale"   # every suite's questions as one

For each suite both runs scored, with the same answerer: each primary metric and recall@5, its
mean before and after, and the paired difference (after minus before) with its 95% bootstrap
interval (:func:`evals.metrics.paired_difference`), then how many answers changed. An interval
that excludes 0 is a difference beyond the noise of the questions; for false abstention and the
forbidden rate, lower is better. This is how a change to the answering code is judged on the dev
questions (a reader, a setting), without running the old code again.

``--pool NAME`` compares every suite's questions together, as one suite of that name, per
answerer: what ``benchmarks.quality --out`` writes is one suite per split (the news dev questions
and the 171 written for the whole corpus), and a change is best judged on all of them at once,
each question counted once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evals.metrics import paired_difference
from evals.runner import PRIMARY

COMPARED = (*PRIMARY, "recall@5")
LOWER_IS_BETTER = frozenset({"false_abstention", "forbidden_rate"})
Run = dict[tuple[str, str], dict[str, dict]]  # {(suite, answerer): {question id: result}}


def load_run(path: Path) -> Run:
    """{(suite, answerer): {question id: result}} of one run's ``results.json`` (or its folder)."""
    path = path / "results.json" if path.is_dir() else path
    if not path.is_file():
        raise SystemExit(f"no eval results at {path}: give a folder that `rag eval --out DIR` wrote, or its results.json")
    return {(report["suite"], report["name"]): {r["id"]: r for r in report["results"]}
            for report in json.loads(path.read_text())["reports"]}


def pooled(run: Run, name: str) -> Run:
    """``run`` with every suite's questions as one suite ``name``, per answerer (a question is
    known by its suite and id, so that two suites' ids never collide)."""
    pool: Run = {}
    for (suite, answerer), results in run.items():
        pool.setdefault((name, answerer), {}).update({f"{suite}: {qid}": r for qid, r in results.items()})
    return pool


def _scores(results: dict[str, dict], metric: str) -> dict[str, float]:
    return {qid: r["scores"][metric] for qid, r in results.items() if r["scores"].get(metric) is not None}


def compare(before: dict, after: dict) -> str:
    """The markdown table of :data:`COMPARED`, per suite and answerer both runs have."""
    rows = ["| suite | answerer | metric | before | after | after minus before (95% interval) |",
            "|---|---|---|---|---|---|"]
    changed = []
    for key in [k for k in before if k in after]:
        old, new = before[key], after[key]
        for metric in COMPARED:
            a, b = _scores(old, metric), _scores(new, metric)
            difference = paired_difference(b, a)
            if difference is None:
                continue
            mean, low, high = difference
            note = " (lower is better)" if metric in LOWER_IS_BETTER else ""
            rows.append(f"| {key[0]} | {key[1]} | {metric}{note} | {sum(a.values()) / len(a):.3f} | "
                        f"{sum(b.values()) / len(b):.3f} | {mean:+.3f} ({low:+.3f} to {high:+.3f}) |")
        shared = [q for q in old if q in new]
        moved = sum(old[q]["answer"]["answer"] != new[q]["answer"]["answer"] for q in shared)
        changed.append(f"{key[0]} ({key[1]}): {moved} of {len(shared)} answers changed")
    if not changed:
        raise SystemExit("the two runs share no suite answered by the same answerer")
    return "\n".join(rows + [""] + changed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the run before the change (a rag eval --out folder)")
    parser.add_argument("after", type=Path, help="the run after it")
    parser.add_argument("--pool", metavar="NAME",
                        help="compare every suite's questions together, as one suite of this name")
    args = parser.parse_args(argv)
    before, after = load_run(args.before), load_run(args.after)
    if args.pool:
        before, after = pooled(before, args.pool), pooled(after, args.pool)
    print(compare(before, after))


if __name__ == "__main__":
    main()
