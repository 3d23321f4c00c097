"""The tables of the latest results (``benchmarks/results/*.json``), as Markdown for the README.

    .venv/bin/python -m benchmarks.report
"""

from __future__ import annotations

from benchmarks import answer, chroma_server, cold_start, common, encoders, ingest, quality, retrieval

SECTIONS = [("Ingest", "ingest", ingest), ("Quality at scale (news questions)", "quality", quality),
            ("Retrieval latency", "retrieval", retrieval),
            ("Answer latency (after load)", "answer", answer), ("Cold start", "cold_start", cold_start),
            ("Embedded Chroma vs a Chroma server on loopback", "chroma_server", chroma_server),
            ("Encoder backends", "encoders", encoders)]


def main() -> None:
    for title, name, module in SECTIONS:
        results = common.load(name)
        if not results:
            continue
        commands = sorted({r.get("command", "?") for r in results})
        print(f"\n### {title}\n\n{module.report_table(results)}\n")
        print("Measured by: " + "; ".join(f"`{c}`" for c in commands) + "\n")


if __name__ == "__main__":
    main()
