"""Reading files: encodings tried in order, and one clear reason for every file that can't be used."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest

from index.errors import InputError
from index.loading import decode, discover, read_file

TEXT = "Zelensky’s delegation met in Genève; the café served crème brûlée.\n"
LATIN = "The delegation met in Genève; the café served crème brûlée.\n"  # latin-1 has no curly quotes


def test_utf8_cp1252_latin1_and_utf16_decode() -> None:
    assert decode(TEXT.encode("utf-8")) == TEXT
    assert decode(TEXT.encode("cp1252")) == TEXT
    assert decode(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")) == TEXT
    assert decode(codecs.BOM_UTF8 + TEXT.encode("utf-8")) == TEXT


def test_html_declared_charset_is_tried_first() -> None:
    html = f'<html><head><meta charset="iso-8859-1"></head><body><p>{LATIN}</p></body></html>'
    assert "Genève" in decode(html.encode("iso-8859-1"), "html")


def test_binary_is_refused_with_a_reason() -> None:
    with pytest.raises(InputError, match="binary file"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)


def test_undecodable_bytes_are_refused() -> None:
    rng = random.Random(7)
    noise = bytes(rng.randrange(0x80, 0x100) for _ in range(4000))  # no encoding makes text of it
    with pytest.raises(InputError, match="undecodable bytes"):
        decode(noise)


def test_empty_and_whitespace_files(tmp_path: Path) -> None:
    for content in (b"", b"  \n\n \t\n"):
        path = tmp_path / "empty.txt"
        path.write_bytes(content)
        with pytest.raises(InputError, match="empty file"):
            read_file(path, 10_000_000)


def test_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:  # a sparse 50 MB file
        handle.truncate(50_000_000)
    with pytest.raises(InputError, match=r"50\.0 MB, over the 10 MB limit.*RAG_MAX_FILE_MB"):
        read_file(path, 10_000_000)


def test_discover_reports_missing_paths_empty_folders_and_wrong_types(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "docs" / "nested").mkdir(parents=True)
    (tmp_path / "docs" / "a.txt").write_text("x")
    (tmp_path / "docs" / "nested" / "b.html").write_text("x")
    (tmp_path / "docs" / "nested" / "c.md").write_text("x")
    (tmp_path / "docs" / "image.png").write_bytes(b"x")
    (tmp_path / "docs" / ".hidden").mkdir()
    (tmp_path / "docs" / ".hidden" / "d.txt").write_text("x")
    (tmp_path / "notes.rtf").write_bytes(b"{\\rtf1}")
    files, problems = discover([tmp_path / "docs", tmp_path / "empty", tmp_path / "missing", tmp_path / "notes.rtf"])
    assert [f.name for f in files] == ["a.txt", "b.html", "c.md"]
    reasons = {Path(p.source).name: p.reason for p in problems}
    assert reasons["empty"].startswith("folder has no article files")
    assert reasons["missing"].startswith("does not exist")
    assert reasons["notes.rtf"].startswith("unsupported file type '.rtf': use .docx, .html, .md, .pdf, .txt")


def test_a_pipe_named_like_an_article_is_skipped_not_waited_on(tmp_path: Path) -> None:
    import os

    pipe = tmp_path / "feed.txt"
    os.mkfifo(pipe)
    with pytest.raises(InputError, match="not a regular file"):
        read_file(pipe, 10_000_000)
