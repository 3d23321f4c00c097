"""Every benchmark, in one process (each embedding backend is loaded once), then every table.

    .venv/bin/python -m benchmarks.run_all [--quick]

Full sizes: ingest and retrieval at 1,000 and 10,000 synthetic articles (plus the seeds; ~10,000
and ~100,000 passages), answers and cold start at the seeds alone, 1,000 and 10,000, the Chroma
server comparison at 1,000, encoder backends with recall on the seeds. ``--quick``: everything on
the seeds plus 20 articles with fewer repeats (a smoke run). Each benchmark writes its
``benchmarks/results/<name>.json``; ``python -m benchmarks.report`` prints the tables again.
"""

from __future__ import annotations

from benchmarks import answer, chroma_server, cold_start, common, encoders, ingest, retrieval
from benchmarks.common import say


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    quick = args.quick
    small = [common.QUICK_ARTICLES]
    plan = [
        ("ingest", lambda: ingest.run(small if quick else [1000, 10000], quick)),
        ("retrieval", lambda: retrieval.run(small if quick else [1000, 10000], quick)),
        ("answer", lambda: answer.run(small if quick else [0, 1000, 10000], quick)),
        ("chroma_server", lambda: chroma_server.run(small if quick else [1000], quick)),
        ("encoders", lambda: encoders.run([0], quick)),
        ("cold_start", lambda: cold_start.run(small if quick else [0, 1000, 10000], quick)),
    ]
    if args.articles:  # the same sizes for every benchmark
        plan = [(name, (lambda m=module: m.run(args.articles, quick))) for name, module in
                [("ingest", ingest), ("retrieval", retrieval), ("answer", answer), ("chroma_server", chroma_server),
                 ("cold_start", cold_start)]] + [("encoders", lambda: encoders.run([0], quick))]
    for name, step in plan:
        say(f"== {name}")
        say(f"wrote {common.save(name, step())}")


if __name__ == "__main__":
    main()
