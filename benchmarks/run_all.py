"""Every benchmark, in one process (each embedding backend is loaded once), then every table.

    .venv/bin/python -m benchmarks.run_all [--quick]
    .venv/bin/python -m benchmarks.run_all --corpus bbc    # the real corpus: about 35 min on 2 busy cores

Full sizes: ingest and retrieval at 1,000 and 10,000 synthetic articles (plus the seeds; ~10,000
and ~100,000 passages), answers and cold start at the seeds alone, 1,000 and 10,000, the Chroma
server comparison at 1,000, encoder backends with recall on the seeds. ``--quick``: everything on
the seeds plus 20 articles with fewer repeats (a smoke run). ``--corpus bbc``: the real corpus (the
2,225 BBC News articles of the public data's ``bbc/``: :func:`benchmarks.common.bbc`, ``--data``)
and the news suite's questions: ingest against the raw encoder and the starter (one round), the
quality at scale (:mod:`benchmarks.quality`, both splits), retrieval, answers (no local model) and
cold start. Each benchmark writes its ``benchmarks/results/<name>.json``; ``python -m
benchmarks.report`` prints the tables again.
"""

from __future__ import annotations

from benchmarks import answer, chroma_server, cold_start, common, encoders, ingest, quality, retrieval
from benchmarks.common import say


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    if args.corpus == "bbc" or any(map(common.is_bbc, args.articles or ())):
        common.bbc()  # a missing corpus stops the run here, before any work
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
    if args.corpus == "bbc" and not args.articles:
        plan = [
            ("ingest", lambda: ingest.run(["bbc"], quick)),
            ("quality", lambda: quality.run(list(quality.SPLITS), list(quality.WEIGHTS), [])),
            ("retrieval", lambda: retrieval.run(["bbc"], quick)),
            ("answer", lambda: answer.run(["bbc"], quick, llm_questions=0)),
            ("cold_start", lambda: cold_start.run(["bbc"], quick)),
        ]
    elif args.articles:  # the same sizes for every benchmark
        plan = [(name, (lambda m=module: m.run(args.articles, quick))) for name, module in
                [("ingest", ingest), ("retrieval", retrieval), ("answer", answer), ("chroma_server", chroma_server),
                 ("cold_start", cold_start)]] + [("encoders", lambda: encoders.run([0], quick))]
    for name, step in plan:
        say(f"== {name}")
        say(f"wrote {common.save(name, step())}")


if __name__ == "__main__":
    main()
