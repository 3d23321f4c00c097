"""Cold start: process start to first answer, and the peak memory of that process.

    .venv/bin/python -m benchmarks.cold_start [--articles N ...] [--quick]

Against the store from ``benchmarks.ingest`` (built, untimed, if missing), a subprocess runs
``rag --store STORE ask --llm extractive "Who mediated the Geneva talks?"`` (the installed console
script, ``RAG_*`` variables removed) and is timed from spawn to exit; one unmeasured run first
(so every measured run finds the files in the page cache, as a second start of the tool does),
then ``--runs`` runs: median, min, max. Peak memory is the child's ``ru_maxrss`` from
``os.wait4``. To show where the time goes, the same is measured for ``python -c "import X"`` of
the heaviest imports (median of ``--runs``; not in ``--quick``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.common import say, summary

QUESTION = "Who mediated the Geneva talks?"
IMPORTS = {
    "python -c pass": "pass",
    "import chromadb": "import chromadb",
    "import sentence_transformers (torch)": "import sentence_transformers",
    "import rag.cli + rag.build": "import rag.cli, rag.build",
    "import onnxruntime + tokenizers": "import onnxruntime, tokenizers",
}


def measure(command: list[str]) -> tuple[float, float, str]:
    """(seconds from spawn to exit, peak RSS in MiB, stdout) of one child process."""
    with open(os.devnull, "w") as devnull, _capture() as out:
        began = time.perf_counter()
        child = subprocess.Popen(command, cwd=common.ROOT, env=common.clean_env(), stdout=out, stderr=devnull)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {child.returncode}: {text}")
    return seconds, usage.ru_maxrss / 1024, text  # ru_maxrss is in KiB on Linux


def _capture():
    import tempfile

    return tempfile.TemporaryFile()


def run_size(articles: int, runs: int, imports: bool) -> dict[str, Any]:
    path = common.prepared_store(articles)
    command = common.rag_command() + ["--store", str(path), "ask", "--llm", "extractive", QUESTION]
    say(f"[{articles} articles] cold start: warm-up run")
    _, _, text = measure(command)
    seconds, memory = [], []
    for i in range(runs):
        say(f"[{articles} articles] cold start: run {i + 1}/{runs}")
        s, m, _ = measure(command)
        seconds.append(s)
        memory.append(m)
    result: dict[str, Any] = {
        "articles": articles, "command": " ".join(["rag", "--store", str(path.relative_to(common.ROOT)), "ask",
                                                   "--llm", "extractive", f'"{QUESTION}"']),
        "runs": runs, "seconds": summary(seconds), "max_s": max(seconds), "peak_rss_mib": summary(memory),
        "answer_head": text.strip().splitlines()[0][:120] if text.strip() else "",
    }
    if imports:
        result["imports_s"] = {
            name: summary(measure([sys.executable, "-c", code])[0] for _ in range(runs)) for name, code in IMPORTS.items()
        }
    return result


def report_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        rows.append([r["articles"], "`rag ask --llm extractive` (spawn to exit)", r["seconds"]["median"],
                     r["seconds"]["min"], r["max_s"], r["peak_rss_mib"]["median"]])
        for name, stats in (r.get("imports_s") or {}).items():
            rows.append([r["articles"], f"`{name}`", stats["median"], stats["min"], "", ""])
    return common.table(["articles", "process", "median s", "min s", "max s", "peak RSS MiB (median)"],
                        [[c if not isinstance(c, float) else round(c, 2) for c in row] for row in rows])


def run(article_sizes: list[int], quick: bool = False, runs: int | None = None) -> list[dict[str, Any]]:
    results = [run_size(n, runs or (1 if quick else 5), imports=(i == 0 and not quick))
               for i, n in enumerate(article_sizes)]
    print("\n## Cold start\n\n" + report_table(results))
    return results


def main() -> None:
    p = common.parser(__doc__.splitlines()[0], default_sizes=(0, 1000, 10000))
    p.add_argument("--runs", type=int, default=None, help="measured runs (default 5; quick 1)")
    args = p.parse_args()
    results = run(common.sizes(args), args.quick, args.runs)
    say(f"wrote {common.save('cold_start', results)}")


if __name__ == "__main__":
    main()
