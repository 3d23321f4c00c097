"""Two checkouts of this project side by side: is a change to the answer path any slower?

    python -m benchmarks.checkouts ../before .        # a worktree of the old commit, then this one
    python -m benchmarks.checkouts ../before . --corpus bbc    # against the whole BBC corpus

Each checkout answers in its own worker process (its code on ``PYTHONPATH``, this venv's
packages), over one store: the seeds, built by the second checkout, or with ``--corpus bbc`` the
whole BBC corpus's (the store ``benchmarks.ingest --corpus bbc`` keeps, built here, untimed, if
missing). The workers are driven question by question, the order rotating between them (so drift
on a shared machine hits both alike): the gold questions (the seeds' 84, or the news suite's 113),
extractive, after three warm-up questions, ``--repeats`` passes. Then ``rag
ask`` cold start (spawn to exit, peak RSS), the checkouts alternating. Prints medians, p95s and
the ratio of the second checkout to the first, and the questions the two answer differently (a
change meant only to be quicker should have none).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import common
from benchmarks.cold_start import measure

# Reads questions (JSON lines) on stdin, answers each, and writes the milliseconds it took and the answer.
_WORKER = """
import json, sys, time
from rag.assistant import build_assistant
from rag.config import Config
assistant = build_assistant(Config(store_path=sys.argv[1]))
print("ready", flush=True)
for line in sys.stdin:
    query = json.loads(line)
    began = time.perf_counter()
    answer = assistant.ask(query["question"], history=query["history"] or None)
    print(json.dumps({"ms": (time.perf_counter() - began) * 1000, "answer": answer.text}), flush=True)
"""


def _env(checkout: Path) -> dict[str, str]:
    return {**common.clean_env(), "PYTHONPATH": str(checkout)}


class _Worker:
    def __init__(self, checkout: Path, store: Path):
        self.process = subprocess.Popen([sys.executable, "-c", _WORKER, str(store)], cwd=checkout,
                                        env=_env(checkout), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the worker of {checkout} did not start")
        self.answers: dict[common.Query, str] = {}  # the last answer to each question

    def ask(self, query: common.Query) -> float:
        self.process.stdin.write(json.dumps({"question": query.question, "history": list(query.history)}) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        self.answers[query] = reply["answer"]
        return float(reply["ms"])

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs=2, type=Path, help="the two project folders: before, after")
    parser.add_argument("--repeats", type=int, default=2, help="passes over the gold questions [2]")
    parser.add_argument("--runs", type=int, default=3, help="cold starts of each [3]")
    parser.add_argument("--corpus", choices=["seeds", "bbc"], default="seeds",
                        help="the seed articles and their questions, or the whole BBC corpus and the news suite's "
                        "questions [seeds]")
    common.add_data_option(parser)
    args = parser.parse_args()
    checkouts = [path.resolve() for path in args.checkouts]
    names = [f"{path.name} ({_commit(path)})" for path in checkouts]
    articles = "bbc" if args.corpus == "bbc" else 0
    queries = common.gold_queries(articles=articles)
    with tempfile.TemporaryDirectory() as folder:
        if args.corpus == "bbc":
            store = common.prepared_store("bbc")
        else:
            store = Path(folder) / "store"
            subprocess.run([sys.executable, "-m", "rag", "--store", str(store), "ingest", "--no-progress",
                            str(common.ROOT / "seeds")], cwd=checkouts[1], env=_env(checkouts[1]), check=True,
                           stdout=subprocess.DEVNULL)
        workers = dict(zip(names, (_Worker(path, store) for path in checkouts)))
        try:
            times = common.interleaved({name: worker.ask for name, worker in workers.items()},
                                       queries, args.repeats, label="answering")
        finally:
            for worker in workers.values():
                worker.close()
        starts: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        question = queries[0].question if args.corpus == "bbc" else "How many prisoners did each side exchange in Istanbul?"
        for run in range(args.runs):
            for name, path in (zip(names, checkouts) if run % 2 == 0 else reversed(list(zip(names, checkouts)))):
                command = [sys.executable, "-m", "rag", "--store", str(store), "ask", question]
                seconds, mib, _ = measure(command, _env(path), cwd=path)  # `-m` puts the cwd first on the path
                starts[name].append((seconds, mib))
    rows = []
    for name in names:
        answer = common.summary(times[name])
        cold = common.summary(s for s, _ in starts[name])
        rows.append([name, answer["median"], answer["p95"], cold["median"], max(m for _, m in starts[name])])
    rows.append(["after / before", *(common.ratio(b, a) for a, b in zip(rows[0][1:], rows[1][1:]))])
    print(common.table(["checkout", "answer median ms", "answer p95 ms", "cold start s (median)", "peak RSS MiB"],
                       rows))
    print(f"\n{len(times[names[0]])} answers each, {args.runs} cold starts each, {time.strftime('%Y-%m-%d')}, "
          f"{os.cpu_count()} CPUs")
    before, after = (workers[name].answers for name in names)
    differ = [query.question for query in before if before[query] != after.get(query)]
    print(f"answers that differ between the checkouts: {len(differ)} of {len(before)}"
          + "".join(f"\n  {question}" for question in differ))


def _commit(path: Path) -> str:
    """The checkout's commit, with "+ changes" when its files differ from it."""
    found = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    changed = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True).stdout.strip()
    return (found.stdout.strip() or "?") + (" + changes" if changed else "")


if __name__ == "__main__":
    main()
