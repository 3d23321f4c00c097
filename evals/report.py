"""Writing eval results: ``results.json``, ``report.md`` and a self-contained ``report.html``.

One section per suite (seeds, squad, news): the primary metrics, judged from the gold data alone
(key facts, gold spans, citations against the gold evidence, abstention), then retrieval, then the
secondary metrics of the eval's support check (``evals/support.py``); paired differences between
systems, latency, pass rate per question type (an inline SVG plot in the HTML) and every failed
question with its answer, gold answer and citations. A summary table, one row per suite for the
system under test, comes first. In each suite the first report is the system under test; the
others (e.g. the llama-index starter baseline) are shown beside it."""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from evals.metrics import paired_difference
from evals.runner import GENERATIVE, HEADLINE, PRIMARY, RETRIEVAL, SECONDARY, Report, abstention_curve

#: Metrics on which systems are compared question by question (see :func:`comparisons`).
COMPARED = ("key_fact_recall", "all_facts", "gold_span", "citation_correct", "citation_recall",
            "citation_precision", "faithfulness")

#: What each suite is, for headings.
SUITE_TITLES = {
    "seeds": "seeds: the team's gold questions on the five seed articles",
    "squad": "squad: SQuAD 2.0 dev, article \"Normans\" (one article of 39 paragraphs)",
    "news": "news: BBC News articles (2004-2005), 12 in the dev half and 17 in the test half (frozen as test)",
}

#: Columns of the per-suite summary (the README's table).
SUMMARY = ("key_fact_recall", "gold_span", "citation_correct", "evidence_cited", "correct_abstention",
           "false_abstention", "forbidden_rate", "recall@5")

_GROUPS = (("Primary: judged from the gold data", PRIMARY), ("Retrieval", RETRIEVAL),
           ("Secondary: the eval's support check (evals/support.py)", SECONDARY),
           ("What a generative answerer contributed (its own sentences that survived the check)", GENERATIVE))

_COLOURS = ["#2563eb", "#9ca3af", "#16a34a", "#d97706"]


def write_reports(reports: list[Report], out: Path, command: str = "") -> dict[str, Path]:
    """Write the three files into ``out`` (created); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "report.md", "html": out / "report.html"}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary = {suite: {name: {"value": main.metrics.get(name), "interval": main.intervals.get(name)}
                       for name in SUMMARY}
               for suite, (main, *_) in by_suite(reports).items()}
    paths["json"].write_text(json.dumps({"generated": stamp, "command": command, "summary": summary,
                                         "reports": [r.to_dict() for r in reports]}, indent=1), encoding="utf-8")
    paths["markdown"].write_text(markdown(reports, stamp, command), encoding="utf-8")
    paths["html"].write_text(render_html(reports, stamp, command), encoding="utf-8")
    return paths


def by_suite(reports: Iterable[Report]) -> dict[str, list[Report]]:
    """The reports grouped by suite, in the order the suites were run."""
    groups: dict[str, list[Report]] = {}
    for report in reports:
        groups.setdefault(report.suite, []).append(report)
    return groups


def present(reports: list[Report], names: Iterable[str]) -> list[str]:
    """The metrics of ``names`` that some report scored (SQuAD has no key facts, the seeds no spans)."""
    return [n for n in names if any(r.metrics.get(n) is not None for r in reports)]


def metrics_table(reports: list[Report], names: Iterable[str] | None = None) -> str:
    """Value and 95% bootstrap interval per metric, one row per system (default: the headline
    metrics of the seeds)."""
    names = list(HEADLINE if names is None else names)
    header = "| system | " + " | ".join(names) + " |"
    rule = "|---" * (len(names) + 1) + "|"
    return "\n".join([header, rule] + [f"| {r.table_row(names)} |" for r in reports])


def summary_table(reports: list[Report]) -> str:
    """One row per suite for its system under test: the headline figures with 95% intervals."""
    lines = ["| suite | system | questions (answerable + not) | " + " | ".join(SUMMARY) + " |",
             "|---" * (len(SUMMARY) + 3) + "|"]
    for suite, (main, *_) in by_suite(reports).items():
        answerable = sum(r.answerable for r in main.results)
        counts = f"{len(main.results)} ({answerable} + {len(main.results) - answerable})"
        cells = [main.cell(n) if main.metrics.get(n) is not None else "–" for n in SUMMARY]
        lines.append(f"| {suite} | {main.name} | {counts} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def console_summary(reports: list[Report]) -> str:
    """What ``rag eval`` prints: the summary, then each suite's primary table."""
    parts = ["Summary (system under test, 95% intervals):", "", summary_table(reports)]
    for suite, group in by_suite(reports).items():
        parts += ["", f"{SUITE_TITLES.get(suite, suite)} — primary metrics:", "",
                  metrics_table(group, present(group, PRIMARY))]
        generative = [r for r in group if any(r.metrics.get(n) is not None for n in GENERATIVE)]
        if generative:
            parts += ["", "What the generative answerers contributed, and what it cost:", "",
                      contribution_table(generative)]
    return "\n".join(parts)


def contribution_table(reports: list[Report]) -> str:
    """Per generative answerer: the share of answers with at least one of its own sentences kept,
    the share of its sentences kept, and the median and 95th-percentile time to answer."""
    lines = ["| system | " + " | ".join(GENERATIVE) + " | answer median ms | answer p95 ms |", "|---" * 5 + "|"]
    for report in reports:
        times = [report.latency.get(k) for k in ("answer_median_ms", "answer_p95_ms")]
        lines.append(f"| {report.name} | " + " | ".join(report.cell(n) for n in GENERATIVE) + " | "
                     + " | ".join("n/a" if t is None else f"{t:,.0f}" for t in times) + " |")
    return "\n".join(lines)


def comparisons(reports: list[Report]) -> list[tuple[str, str, tuple[float, float, float]]]:
    """(other system, metric, (mean difference, low, high)): the first system minus each other one,
    paired by question, with 95% bootstrap intervals. An interval that excludes 0 is a difference
    beyond the noise of this question set."""
    rows = []
    main = reports[0]
    for other in reports[1:]:
        for metric in COMPARED:
            a = {r.id: r.scores[metric] for r in main.results if metric in r.scores}
            b = {r.id: r.scores[metric] for r in other.results if metric in r.scores}
            difference = paired_difference(a, b)
            if difference is not None:
                rows.append((other.name, metric, difference))
    return rows


def comparison_table(reports: list[Report]) -> str:
    rows = comparisons(reports)
    if not rows:
        return ""
    lines = [f"| {reports[0].name} minus | metric | mean difference | 95% interval |", "|---|---|---|---|"]
    lines += [f"| {name} | {metric} | {d[0]:+.3f} | {d[1]:+.3f} to {d[2]:+.3f} |" for name, metric, d in rows]
    return "\n".join(lines)


def markdown(reports: list[Report], stamp: str, command: str) -> str:
    suites = by_suite(reports)
    first = next(iter(suites.values()))[0]
    lines = [f"# Eval report: {first.name}", "", f"Generated {stamp}" + (f" by `{command}`" if command else "") + ".",
             "Values are means with 95% bootstrap intervals. Primary metrics are judged from the gold data "
             "alone; the support-check metrics are secondary.", "", "## Summary by suite", "",
             summary_table(reports)]
    for suite, group in suites.items():
        lines += _suite_markdown(suite, group)
    return "\n".join(lines) + "\n"


def _suite_markdown(suite: str, reports: list[Report]) -> list[str]:
    main = reports[0]
    answerable = sum(r.answerable for r in main.results)
    lines = ["", f"## {SUITE_TITLES.get(suite, suite)}", "",
             f"{len(main.results)} questions ({answerable} answerable, {len(main.results) - answerable} not)."]
    for title, names in _GROUPS:
        names = present(reports, names)
        if names:
            lines += ["", f"### {title}", "", metrics_table(reports, names)]
    lines += ["", "### Paired differences (question by question)", "",
              comparison_table(reports) or "Only one system was scored.", "", "### Latency (ms)", "",
              "| system | " + " | ".join(main.latency) + " |", "|---" * (len(main.latency) + 1) + "|"]
    for report in reports:
        lines.append(f"| {report.name} | " + " | ".join(_num(v, 0) for v in report.latency.values()) + " |")
    curve = abstention_curve(main.results)
    if curve:
        lines += ["", f"### Abstention trade-off ({main.name})", "",
                  "Had `abstain_threshold` been each value: correct abstention (unanswerable questions) against "
                  "false abstention (answerable ones).", "",
                  "| abstain_threshold | correct abstention | false abstention |", "|---|---|---|"]
        lines += [f"| {t:.2f} | {_num(ca)} | {_num(fa)} |" for t, ca, fa in curve]
    lines += ["", "### By question type", "",
              "| type | questions | " + " | ".join(f"{r.name} passed" for r in reports) + " |",
              "|---" * (len(reports) + 2) + "|"]
    for kind, row in main.by_type.items():
        passed = [_num(r.by_type.get(kind, {}).get("passed")) for r in reports]
        lines.append(f"| {kind} | {int(row['questions'])} | " + " | ".join(passed) + " |")
    lines += ["", f"### Failed questions ({len(main.failed)})", ""]
    for result in main.failed:
        lines += [f"#### {result.id} ({result.type}): {result.question}", "",
                  f"- failures: {'; '.join(result.failures)}", f"- answer: {result.answer['answer']}",
                  f"- gold: {result.gold_answer}"]
        lines += [f"- [{c['n']}] {Path(c['source']).name}: “{c['quote']}”" for c in result.answer["citations"]]
        lines.append("")
    return lines


def render_html(reports: list[Report], stamp: str, command: str) -> str:
    esc = html.escape
    suites = by_suite(reports)
    first = next(iter(suites.values()))[0]
    rows = []
    for suite, (main, *_) in suites.items():
        cells = "".join(_html_cell(main, n) if main.metrics.get(n) is not None else "<td>–</td>" for n in SUMMARY)
        rows.append(f"<tr><th>{esc(suite)}</th><td>{len(main.results)}</td>{cells}</tr>")
    summary = (f"<table><tr><th>suite</th><th>questions</th>{''.join(f'<th>{esc(n)}</th>' for n in SUMMARY)}</tr>"
               f"{''.join(rows)}</table>")
    sections = "".join(_suite_html(suite, group) for suite, group in suites.items())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Eval report: {esc(first.name)}</title>
<style>body{{font:14px/1.5 system-ui,sans-serif;margin:2rem;max-width:1200px}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ddd;padding:4px 6px;text-align:right}}th{{text-align:left}}details{{margin:.4rem 0}}
summary{{cursor:pointer}}small{{color:#666}}</style></head><body>
<h1>Eval report: {esc(first.name)}</h1><p>Generated {esc(stamp)}{' by <code>' + esc(command) + '</code>' if command else ''};
means with 95% bootstrap intervals. Primary metrics are judged from the gold data alone; the support-check metrics
are secondary.</p>
<h2>Summary by suite ({esc(first.name)})</h2>{summary}
{sections}
</body></html>"""


def _suite_html(suite: str, reports: list[Report]) -> str:
    esc = html.escape
    main = reports[0]
    tables = []
    for title, names in _GROUPS:
        names = present(reports, names)
        if not names:
            continue
        rows = "".join(f"<tr><th>{esc(r.name)}</th>{''.join(_html_cell(r, n) for n in names)}</tr>" for r in reports)
        tables.append(f"<h3>{esc(title)}</h3><table><tr><th>system</th>"
                      f"{''.join(f'<th>{esc(n)}</th>' for n in names)}</tr>{rows}</table>")
    failed = []
    for result in main.failed:
        citations = "".join(
            f"<li>[{c['n']}] <b>{esc(Path(c['source']).name)}</b>: “{esc(c['quote'])}”</li>"
            for c in result.answer["citations"])
        failed.append(
            f"<details><summary><b>{esc(result.id)}</b> ({esc(result.type)}) {esc(result.question)} — "
            f"<i>{esc('; '.join(result.failures))}</i></summary><p><b>Answer:</b> {esc(result.answer['answer'])}</p>"
            f"<p><b>Gold:</b> {esc(result.gold_answer)}</p><ul>{citations}</ul></details>")
    kinds = list(main.by_type)
    bars = _bar_chart(kinds, [[r.by_type.get(k, {}).get("passed") or 0.0 for k in kinds] for r in reports],
                      [r.name for r in reports])
    latency = _strip_chart([[x.retrieve_ms + x.answer_ms for x in r.results] for r in reports], [r.name for r in reports])
    curve = abstention_curve(main.results)
    tradeoff = (f"<h3>Abstention trade-off ({esc(main.name)}): correct against false abstention as "
                f"<code>abstain_threshold</code> moves</h3>{_curve_chart(curve)}" if curve else "")
    return (f"<h2>{esc(SUITE_TITLES.get(suite, suite))}</h2><p>{len(main.results)} questions.</p>{''.join(tables)}"
            f"{tradeoff}<h3>Share of questions passed, by type</h3>{bars}"
            f"<h3>Latency per question (retrieval + answer, ms)</h3>{latency}"
            f"<h3>Failed questions ({len(main.failed)})</h3>{''.join(failed) or '<p>None.</p>'}")


def _curve_chart(curve: list[tuple[float, float | None, float | None]]) -> str:
    """False abstention (x) against correct abstention (y), one labelled point per threshold."""
    size, pad = 320, 40
    points = [(t, fa, ca) for t, ca, fa in curve if ca is not None and fa is not None]
    if not points:
        return "<p>No unanswerable or no answerable questions.</p>"

    def xy(fa: float, ca: float) -> tuple[float, float]:
        return pad + fa * (size - 2 * pad), size - pad - ca * (size - 2 * pad)

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(fa, ca) for _, fa, ca in points))
    dots = "".join(f'<circle cx="{xy(fa, ca)[0]:.1f}" cy="{xy(fa, ca)[1]:.1f}" r="3"><title>threshold {t:.2f}: '
                   f'correct {ca:.2f}, false {fa:.2f}</title></circle>' for t, fa, ca in points)
    labels = "".join(f'<text x="{xy(fa, ca)[0] + 4:.1f}" y="{xy(fa, ca)[1] - 4:.1f}" font-size="9">{t:.2f}</text>'
                     for t, fa, ca in points[::3])
    return (f'<svg width="{size}" height="{size}" role="img" aria-label="abstention trade-off">'
            f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" fill="none" stroke="#ccc"/>'
            f'<polyline points="{path}" fill="none" stroke="#36c"/>{dots}{labels}'
            f'<text x="{size / 2}" y="{size - 8}" text-anchor="middle" font-size="11">false abstention</text>'
            f'<text x="12" y="{size / 2}" font-size="11" transform="rotate(-90 12 {size / 2})" text-anchor="middle">'
            f'correct abstention</text></svg>')


def _html_cell(report: Report, name: str) -> str:
    value, interval = report.metrics.get(name), report.intervals.get(name)
    ci = f"<br><small>{interval[0]:.2f}–{interval[1]:.2f}</small>" if interval else ""
    return f"<td>{_num(value)}{ci}</td>"


def _bar_chart(labels: list[str], series: list[list[float]], names: list[str]) -> str:
    width, height, left, bottom = 900, 260, 40, 70
    group = (width - left) / max(len(labels), 1)
    bar = group * 0.8 / max(len(series), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" role="img">']
    for tick in (0, 0.5, 1):
        y = height - bottom - tick * (height - bottom - 10)
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y}" y2="{y}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{y + 4}" font-size="10" text-anchor="end">{tick:.1f}</text>')
    for i, label in enumerate(labels):
        x0 = left + i * group + group * 0.1
        for j, values in enumerate(series):
            h = values[i] * (height - bottom - 10)
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{height - bottom - h:.1f}" width="{bar - 1:.1f}" '
                         f'height="{h:.1f}" fill="{_COLOURS[j % len(_COLOURS)]}"><title>{html.escape(names[j])}: '
                         f'{values[i]:.2f}</title></rect>')
        parts.append(f'<text x="{x0 + group * 0.4:.1f}" y="{height - bottom + 14}" font-size="10" '
                     f'text-anchor="end" transform="rotate(-30 {x0 + group * 0.4:.1f} {height - bottom + 14})">'
                     f'{html.escape(label)}</text>')
    parts += _legend(names, height + 20)
    return "".join(parts) + "</svg>"


def _strip_chart(series: list[list[float]], names: list[str]) -> str:
    width, row, left = 900, 40, 260
    top = max((max(values) for values in series if values), default=1.0) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * len(series) + 40}" role="img">']
    for j, values in enumerate(series):
        y = 20 + j * row
        parts.append(f'<text x="{left - 8}" y="{y + 4}" font-size="11" text-anchor="end">{html.escape(names[j])}</text>')
        for value in values:
            x = left + value / top * (width - left - 20)
            parts.append(f'<circle cx="{x:.1f}" cy="{y}" r="3" fill="{_COLOURS[j % len(_COLOURS)]}" fill-opacity=".5"/>')
    axis_y = 20 + len(series) * row - 10
    parts.append(f'<text x="{left}" y="{axis_y + 14}" font-size="10">0 ms</text>'
                 f'<text x="{width - 20}" y="{axis_y + 14}" font-size="10" text-anchor="end">{top:.0f} ms</text>')
    return "".join(parts) + "</svg>"


def _legend(names: list[str], y: float) -> list[str]:
    return [f'<rect x="{40 + j * 320}" y="{y - 9}" width="10" height="10" fill="{_COLOURS[j % len(_COLOURS)]}"/>'
            f'<text x="{55 + j * 320}" y="{y}" font-size="11">{html.escape(name)}</text>' for j, name in enumerate(names)]


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
