"""Cold start: process start to first answer, and the peak memory of that process.

    .venv/bin/python -m benchmarks.cold_start [--articles N ...] [--quick]

Against the store from ``benchmarks.ingest`` (built, untimed, if missing), a subprocess runs
``rag --store STORE ask --llm extractive QUESTION`` (:data:`QUESTION`: a seeds question, or for the
BBC corpus a news dev question; the installed console
script, ``RAG_*`` variables removed but ``RAG_EMBEDDING_BACKEND``, set to the backend the store
opens with: the project's default, onnx, unless the store was built with onnx-int8) and is timed
from spawn to exit; one unmeasured run first (so every measured run finds the files in the page
cache, as a second start of the tool does), then ``--runs`` runs: median, min, max. Peak memory is
the child's maximum resident set size, from ``/usr/bin/time -f %M`` when it is installed, else
from a small Python launcher that does the same (and adds its own start, some 20 ms, to the
time). To show where the time goes, the same is measured for ``python -c "import X"`` of the
heaviest imports (median of ``--runs``; not in ``--quick``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.common import say, summary

QUESTION = "Who mediated the Geneva talks?"
NEWS_QUESTION = "Who is the governor of Sri Lanka's central bank?"  # bbcdev001, for the BBC corpus
IMPORTS = {
    "python -c pass": "pass",
    "import chromadb": "import chromadb",
    "import sentence_transformers (torch)": "import sentence_transformers",
    "import rag.cli + rag.build": "import rag.cli, rag.build",
    "import onnxruntime + tokenizers": "import onnxruntime, tokenizers",
}


# Runs argv[2:] and writes its peak RSS in KiB to the file argv[1], as /usr/bin/time -f %M -o FILE does.
_LAUNCHER = """import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n")
sys.exit(code)
"""


def peak_wrapper(peak_file: str) -> list[str]:
    """The command prefix that writes the wrapped command's peak RSS (KiB) to ``peak_file``:
    ``/usr/bin/time`` if installed (Debian's ``time`` package, which ``scripts/install.sh`` does not
    install), else :data:`_LAUNCHER`. Either way the command is forked from a small process: forked
    from this (large) benchmark process, its ``ru_maxrss`` would count the parent's pages too."""
    if Path("/usr/bin/time").exists():
        return ["/usr/bin/time", "-f", "%M", "-o", peak_file]
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, peak_file]


def measure(command: list[str], env: dict[str, str], cwd: Path = common.ROOT) -> tuple[float, float, str]:
    """(seconds from spawn to exit, peak RSS in MiB, stdout) of one child process."""
    with tempfile.NamedTemporaryFile("r") as peak, tempfile.TemporaryFile() as out:
        began = time.perf_counter()
        child = subprocess.run(peak_wrapper(peak.name) + command, cwd=cwd, env=env, stdout=out,
                               stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - began
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {child.returncode}: {text}")
        kib = int(peak.read().split()[-1])  # /usr/bin/time may write a line about the exit status first
    return seconds, kib / 1024, text


def run_size(articles: common.Key, runs: int, imports: bool) -> dict[str, Any]:
    path = common.prepared_store(articles)
    question = NEWS_QUESTION if common.is_bbc(articles) else QUESTION
    command = common.rag_command() + ["--store", str(path), "ask", "--llm", "extractive", question]
    env = common.rag_env(path)
    say(f"[{articles} articles] cold start: warm-up run")
    _, _, text = measure(command, env)
    plain_env = {**env, "RAG_READER_MODEL": "none"}
    seconds, memory, plain_seconds, plain_memory = [], [], [], []
    for i in range(runs):  # with the reader (the default) and without it, alternating
        say(f"[{articles} articles] cold start: run {i + 1}/{runs}")
        s, m, _ = measure(command, env)
        seconds.append(s)
        memory.append(m)
        s, m, _ = measure(command, plain_env)
        plain_seconds.append(s)
        plain_memory.append(m)
    result: dict[str, Any] = {
        "articles": articles, "command": " ".join(["rag", "--store", str(path.relative_to(common.ROOT)), "ask",
                                                   "--llm", "extractive", f'"{question}"']),
        "embedding_backend": env["RAG_EMBEDDING_BACKEND"], "runs": runs, "seconds": summary(seconds),
        "max_s": max(seconds), "peak_rss_mib": summary(memory),
        "without_reader": {"seconds": summary(plain_seconds), "peak_rss_mib": summary(plain_memory)},
        "answer_head": text.strip().splitlines()[0][:120] if text.strip() else "",
    }
    if imports:
        result["imports_s"] = {
            name: summary(measure([sys.executable, "-c", code], common.clean_env())[0] for _ in range(runs))
            for name, code in IMPORTS.items()
        }
    return result


def report_table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        rows.append([r["articles"], f"`rag ask --llm extractive`, {r.get('embedding_backend', 'torch')} (spawn to exit)",
                     r["seconds"]["median"],
                     r["seconds"]["min"], r["max_s"], r["peak_rss_mib"]["median"]])
        plain = r.get("without_reader")
        if plain:
            rows.append([r["articles"], "the same, `RAG_READER_MODEL=none`", plain["seconds"]["median"],
                         plain["seconds"]["min"], "", plain["peak_rss_mib"]["median"]])
        for name, stats in (r.get("imports_s") or {}).items():
            rows.append([r["articles"], f"`{name}`", stats["median"], stats["min"], "", ""])
    return common.table(["articles", "process", "median s", "min s", "max s", "peak RSS MiB (median)"],
                        [[c if not isinstance(c, float) else round(c, 2) for c in row] for row in rows])


def run(article_sizes: list[common.Key], quick: bool = False, runs: int | None = None) -> list[dict[str, Any]]:
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
