"""Writing eval results: ``results.json``, ``report.md`` and a self-contained ``report.html``
(inline SVG plots: pass rate per question type, latency distribution; every failed question with
its answer, gold answer and citations). The first report is the system under test; the others
(e.g. the llama-index starter baseline) are shown beside it."""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path

from evals.metrics import paired_difference
from evals.runner import HEADLINE, Report

#: Metrics on which systems are compared question by question (see :func:`comparisons`).
COMPARED = ("key_fact_recall", "all_facts", "citation_recall", "citation_precision", "faithfulness")

_COLOURS = ["#2563eb", "#9ca3af", "#16a34a", "#d97706"]


def write_reports(reports: list[Report], out: Path, command: str = "") -> dict[str, Path]:
    """Write the three files into ``out`` (created); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "report.md", "html": out / "report.html"}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    paths["json"].write_text(json.dumps({"generated": stamp, "command": command,
                                         "reports": [r.to_dict() for r in reports]}, indent=1), encoding="utf-8")
    paths["markdown"].write_text(markdown(reports, stamp, command), encoding="utf-8")
    paths["html"].write_text(render_html(reports, stamp, command), encoding="utf-8")
    return paths


def metrics_table(reports: list[Report]) -> str:
    """The headline table (value and 95% bootstrap interval per metric), one row per system."""
    header = "| system | " + " | ".join(HEADLINE) + " |"
    rule = "|---" * (len(HEADLINE) + 1) + "|"
    return "\n".join([header, rule] + [f"| {r.table_row()} |" for r in reports])


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
    main = reports[0]
    lines = [f"# Eval report: {main.name}", "", f"Generated {stamp}" + (f" by `{command}`" if command else "") + ".",
             f"{len(main.results)} questions; values are means with 95% bootstrap intervals.", "",
             metrics_table(reports), "", "## Paired differences (question by question)", "",
             comparison_table(reports) or "Only one system was scored.", "", "## Latency (ms)", "", "| system | " + " | ".join(main.latency) + " |",
             "|---" * (len(main.latency) + 1) + "|"]
    for report in reports:
        lines.append(f"| {report.name} | " + " | ".join(_num(v, 0) for v in report.latency.values()) + " |")
    lines += ["", "## By question type", "", "| type | questions | " + " | ".join(f"{r.name} passed" for r in reports) + " |",
              "|---" * (len(reports) + 2) + "|"]
    for kind, row in main.by_type.items():
        passed = [_num(r.by_type.get(kind, {}).get("passed")) for r in reports]
        lines.append(f"| {kind} | {int(row['questions'])} | " + " | ".join(passed) + " |")
    lines += ["", f"## Failed questions ({len(main.failed)})", ""]
    for result in main.failed:
        lines += [f"### {result.id} ({result.type}): {result.question}", "",
                  f"- failures: {'; '.join(result.failures)}", f"- answer: {result.answer['answer']}",
                  f"- gold: {result.gold_answer}"]
        lines += [f"- [{c['n']}] {Path(c['source']).name}: “{c['quote']}”" for c in result.answer["citations"]]
        lines.append("")
    return "\n".join(lines)


def render_html(reports: list[Report], stamp: str, command: str) -> str:
    main = reports[0]
    esc = html.escape
    rows = []
    for report in reports:
        cells = []
        for name in HEADLINE:
            value, interval = report.metrics.get(name), report.intervals.get(name)
            ci = f"<br><small>{interval[0]:.2f}–{interval[1]:.2f}</small>" if interval else ""
            cells.append(f"<td>{_num(value)}{ci}</td>")
        rows.append(f"<tr><th>{esc(report.name)}</th>{''.join(cells)}</tr>")
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
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Eval report: {esc(main.name)}</title>
<style>body{{font:14px/1.5 system-ui,sans-serif;margin:2rem;max-width:1200px}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ddd;padding:4px 6px;text-align:right}}th{{text-align:left}}details{{margin:.4rem 0}}
summary{{cursor:pointer}}small{{color:#666}}</style></head><body>
<h1>Eval report: {esc(main.name)}</h1><p>Generated {esc(stamp)}{' by <code>' + esc(command) + '</code>' if command else ''};
{len(main.results)} questions; means with 95% bootstrap intervals.</p>
<table><tr><th>system</th>{''.join(f'<th>{esc(n)}</th>' for n in HEADLINE)}</tr>{''.join(rows)}</table>
<h2>Share of questions passed, by type</h2>{bars}
<h2>Latency per question (retrieval + answer, ms)</h2>{latency}
<h2>Failed questions ({len(main.failed)})</h2>{''.join(failed) or '<p>None.</p>'}
</body></html>"""


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
