"""Every `rag` command and option shown in the README and docs/ exists in the real CLI, and
docs/configuration.md's table lists every setting of `rag.config.Config` with its default.

Each command line in a fenced console/shell block (`$ rag ...`, `$ .venv/bin/rag ...`, with any
environment assignments before it) is parsed against `rag.cli.main` with click's own objects:
the subcommand must be one `rag` has, and every option named must be one of its (or, before the
subcommand, one of `rag`'s own). Nothing is run.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from rag.cli import main
from rag.config import Config

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_FENCES = {"console", "shell", "bash", "sh", "shell-session"}


def command_lines(text: str) -> list[str]:
    """The `rag` command lines of the fenced console/shell blocks of a Markdown text."""
    found, fence = [], None
    for line in text.splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip().lower()
            continue
        if fence not in SHELL_FENCES:
            continue
        if fence == "console":
            if not line.startswith("$ "):
                continue  # output, not a command
            line = line[2:]
        if re.search(r"(^|[\s/])rag(\s|$)", line):
            found.append(line.strip())
    return found


def _tokens(line: str) -> list[str]:
    """The words of a command line from its `rag`, without the comment and anything after `|`, `;`, `&&`."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    for i, word in enumerate(words):
        if word == "rag" or word.endswith("/rag"):
            words = words[i + 1:]
            break
    else:
        raise AssertionError(f"no rag command in {line!r}")
    for i, word in enumerate(words):
        if word in {"|", ";", "&&", "||", "&", ">", ">>", "<"}:
            return words[:i]
    return words


def _options(command: click.Command, ctx: click.Context) -> dict[str, click.Parameter]:
    options = {}
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                options[name] = param
    return options


def problems(line: str) -> list[str]:
    """What in a command line the real CLI does not have (empty when every name exists)."""
    words = _tokens(line)
    found: list[str] = []
    command: click.Command = main
    ctx = click.Context(main, info_name="rag")
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            option = _options(command, ctx).get(name)
            if option is None:
                found.append(f"{ctx.command_path}: no option {name}")
            elif not option.is_flag and not option.count and "=" not in word:
                i += option.nargs  # skip its value(s)
            continue
        if isinstance(command, click.Group):
            sub = command.get_command(ctx, word)
            if sub is None:
                found.append(f"{ctx.command_path}: no command {word!r}")
                return found
            command, ctx = sub, click.Context(sub, info_name=word, parent=ctx)
        # otherwise an argument of the command
    if command is main:
        found.append("no subcommand")
    return found


LINES = [(path.relative_to(ROOT).as_posix(), line)
         for path in DOCS for line in command_lines(path.read_text(encoding="utf-8"))]


def test_the_docs_show_rag_commands():
    assert len(LINES) >= 10, LINES
    assert any(where == "README.md" for where, _ in LINES)


@pytest.mark.parametrize(("where", "line"), LINES, ids=[f"{w}:{l[:60]}" for w, l in LINES])
def test_every_command_and_option_shown_exists(where, line):
    assert problems(line) == [], f"{where}: {line}"


def test_the_checker_rejects_what_does_not_exist():
    assert problems('.venv/bin/rag ask --json "Who?"') == []
    assert problems("RAG_API_TOKEN=$(openssl rand -hex 16) .venv/bin/rag serve --host 0.0.0.0 --port 8000") == []
    assert problems('.venv/bin/rag ask --no-such-flag "Who?"') == ["rag ask: no option --no-such-flag"]
    assert problems("rag inges seeds/") == ["rag: no command 'inges'"]
    assert problems("rag --store .rag") == ["no subcommand"]
    assert command_lines("```console\n$ rag doctor\nrag output, not a command\n```\n"
                         "```python\nrag ask x\n```\n") == ["rag doctor"]


def documented_settings(text: str) -> dict[str, str]:
    """Setting name -> its default as docs/configuration.md's table gives it (a row may hold
    several: "`a` / `b` | `1` / `2`", or one default for all: "`a` / `b` | unset")."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = [n.strip().strip("`") for n in cells[0].split(" / ")]
        defaults = [d.strip() for d in cells[1].split(" / ")]
        if len(defaults) == 1:
            defaults *= len(names)
        assert len(names) == len(defaults), line
        found.update(zip(names, defaults))
    return found


def default_problem(name: str, shown: str) -> str | None:
    """Why the documented default ``shown`` is not ``Config``'s, or None when it is. A setting
    whose default is None ("unset", or what unset means) may be described in words."""
    value = Config.model_fields[name].default
    if value is None:
        return None
    if not (shown.startswith("`") and shown.endswith("`")):
        return f"{name}: shown as {shown!r}, not as a value"
    shown = shown.strip("`")
    if isinstance(value, bool):
        same = shown == str(value).lower()
    elif isinstance(value, (int, float)):
        same = float(shown) == float(value)
    else:
        same = shown == str(value)
    return None if same else f"{name}: the docs say {shown}, the code {value!r}"


def test_the_configuration_page_lists_every_setting_with_its_default():
    shown = documented_settings((ROOT / "docs" / "configuration.md").read_text(encoding="utf-8"))
    assert sorted(shown) == sorted(Config.model_fields)
    assert [p for p in (default_problem(n, d) for n, d in shown.items()) if p] == []


def test_the_settings_check_catches_a_wrong_default():
    assert default_problem("top_k", "`5`") is None
    assert default_problem("top_k", "`6`") == "top_k: the docs say 6, the code 5"
    assert default_problem("passage_header", "`true`") is not None
    assert default_problem("abstain_threshold", "`0.60`") is None
    assert default_problem("cache_dir", "`~/.cache/rag`") is None  # None: described, not a value
