"""PDF and Word articles: real files written here (fpdf2 for PDF, python-docx for DOCX), read
through the same cleaning as every article, ingested with the real model into embedded Chroma and
asked about; and each kind of unusable file a skip with its reason, never a traceback."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from index.cleaning import clean
from index.errors import InputError
from index.loading import discover, read_file
from tests.conftest import ROOT

LIMIT = 10_000_000

# The Danube article: its key sentence runs from page 1 to page 2, hyphenated at the page end.
FERRY_PAGES = [
    [
        "# Danube ferry crossings resume",
        "",
        "Ferry crossings on the lower Danube resumed on Tuesday after the two governments signed a",
        "transit protocol in Bucharest, ending a suspension that had lasted eleven weeks, officials",
        "said. The talks had stalled twice over the Russia-",
        "Ukraine border arrangements and over the inspection of well-known hauliers.",
        "",
        "## What the protocol says",
        "",
        "Inspectors will treat well-",
        "known hauliers like any other carrier, the protocol says.",
        "",
        "Under the protocol, the ferry between Izmail and Isaccea will carry up to 240 lorries a day",
        "under the super-",
    ],
    [
        "vision of a joint customs team from both countries, and crossings will run at night.",
        "",
        "Hauliers welcomed the decision but warned that queues at the Romanian bank could stretch",
        "for kilometres during the harvest season.",
    ],
]
FERRY_SENTENCE = ("Under the protocol, the ferry between Izmail and Isaccea will carry up to 240 lorries a day "
                  "under the supervision of a joint customs team from both countries, and crossings will run at night.")

PILOTS = [
    ("Normal", "WORLD NEWS"),
    ("Heading 1", "Odesa harbour pilots end their strike"),
    ("Normal", "Harbour pilots in Odesa returned to work on Monday after a strike that had lasted nine days."),
    ("Heading 2", "The agreement"),
    ("Normal", "The pilots' union said its members had accepted a pay rise of 18 percent negotiated "
               "by the port authority."),
    ("List Bullet", "Pilots boarded fourteen ships on the first day."),
    ("List Bullet", "Two damaged tugs were repaired over the weekend."),
    ("Normal", "Shipping agents said the backlog of grain vessels would clear within a week."),
]


class _Paper:
    """An fpdf2 document with a running header and a 'Page n of m' footer, as printed pages have."""

    @staticmethod
    def make(pages: list[list[str]], title: str | None = None, author: str | None = None,
             created: datetime | None = None, running: bool = True, **encryption) -> bytes:
        from fpdf import FPDF

        class Paper(FPDF):
            def header(self):
                if not running:
                    return
                self.set_font("Helvetica", size=8)
                self.cell(0, 5, "The Danube Courier - Business", new_x="LMARGIN", new_y="NEXT")
                self.ln(4)

            def footer(self):
                if not running:
                    return
                self.set_y(-15)
                self.set_font("Helvetica", size=8)
                self.cell(0, 5, f"Page {self.page_no()} of {{nb}}")

        pdf = Paper()
        pdf.set_auto_page_break(False)
        if title:
            pdf.set_title(title)
        if author:
            pdf.set_author(author)
        pdf.set_creation_date(created or datetime(2025, 3, 4, 9, 30, tzinfo=timezone.utc))
        for lines in pages:
            pdf.add_page()
            for line in lines:
                if line.startswith("#"):
                    pdf.set_font("Helvetica", "B", 18 if line.startswith("# ") else 13)
                    pdf.cell(0, 9, line.lstrip("# "), new_x="LMARGIN", new_y="NEXT")
                else:
                    pdf.set_font("Helvetica", size=11)
                    pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        if encryption:
            pdf.set_encryption(**encryption)
        return bytes(pdf.output())


def ferry_pdf(**options) -> bytes:
    return _Paper.make(FERRY_PAGES, title="Danube ferry crossings resume", author="Ioana Popescu", **options)


def scanned_pdf() -> bytes:
    """A page that is only a picture of text, as a scanner makes it: no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (900, 300), "white")
    ImageDraw.Draw(image).text((20, 20), "Ferry crossings on the lower Danube resumed on Tuesday.", fill="black")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=190)
    return bytes(pdf.output())


def pilots_docx(properties: bool = True, blocks=PILOTS) -> bytes:
    import docx

    document = docx.Document()
    if properties:
        core = document.core_properties
        core.author, core.title = "Olena Kovalenko", "Pilots (draft 3)"
        core.created = datetime(2025, 7, 1, 8, 0)
    for style, text in blocks:
        document.add_paragraph(text, style=style)
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Port", (0, 1): "Ships", (1, 0): "Odesa", (1, 1): "14"}.items():
        table.cell(row, col).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, text in files.items():
            package.writestr(name, text)
    return buffer.getvalue()


def read(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    raw = read_file(path, LIMIT)
    return raw, clean(raw.text, raw.kind, raw.properties)


# --- reading ----------------------------------------------------------------------------------------

def test_pdf_lines_pages_and_hyphenation_are_rejoined_and_metadata_kept(tmp_path: Path) -> None:
    raw, article = read(tmp_path, "ferry.pdf", ferry_pdf())
    assert raw.kind == "text"
    assert (article.title, article.author, article.published) == (
        "Danube ferry crossings resume", "Ioana Popescu", date(2025, 3, 4))
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0] == "Danube ferry crossings resume"
    assert FERRY_SENTENCE in paragraphs                   # across a line, a page and a hyphenated word
    assert "What the protocol says" in paragraphs         # a heading stays its own paragraph
    assert "the Russia-Ukraine border" in article.text    # a hyphen before a capital is a real one
    assert "treat well-known hauliers" in article.text    # ... and so is one the article spells elsewhere
    assert "Hauliers welcomed the decision but warned that queues at the Romanian bank could stretch for " \
           "kilometres during the harvest season." in paragraphs
    for furniture in ("Page 1", "Page 2", "Danube Courier", "Published", "By Ioana"):
        assert furniture not in article.text


def test_a_pdf_heading_that_wraps_onto_two_lines_stays_one_title(tmp_path: Path) -> None:
    body = ["Fighting resumed along the front on Saturday morning, nine days after the truce began, as",
            "both sides accused the other of breaking it first, officials in the region said.", "",
            "## What the monitors saw", "",
            "Observers counted forty shells in the first hour, the mission's daily report said."]
    pages = [["# Russia-Ukraine Ceasefire Agreed in Geneva Ends After Nine", "# Days", "", *body]]
    _, article = read(tmp_path, "ceasefire.pdf", _Paper.make(pages, running=False))
    assert article.title == "Russia-Ukraine Ceasefire Agreed in Geneva Ends After Nine Days"
    paragraphs = article.text.split("\n\n")
    assert "Days" not in paragraphs and paragraphs[0] == article.title
    assert "What the monitors saw" in paragraphs  # a heading in another size is still its own paragraph
    assert any(p.startswith("Fighting resumed") and p.endswith("region said.") for p in paragraphs)


def test_pdf_property_title_is_added_when_the_text_lacks_it_and_placeholders_are_ignored(tmp_path: Path) -> None:
    body = [["Crossings resumed on Tuesday after a suspension of eleven weeks, officials said."]]
    _, article = read(tmp_path, "a.pdf", _Paper.make(body, title="Ferries are back", author="Admin",
                                                                 running=False))
    assert article.title == "Ferries are back" and article.author is None
    assert article.text.startswith("Ferries are back\n\nCrossings resumed")
    _, article = read(tmp_path, "b.pdf", _Paper.make(body, title="Microsoft Word - ferries.docx",
                                                     author="Ioana van der Berg", running=False))
    assert article.author is None                                # a file name is no title: the first
    assert article.title == body[0][0]                           # sentence is (short enough to be whole)
    assert article.text.startswith("Crossings resumed")         # and no half-read byline is left behind


def test_docx_paragraphs_headings_lists_tables_and_properties(tmp_path: Path) -> None:
    raw, article = read(tmp_path, "pilots.docx", pilots_docx())
    assert raw.kind == "text"
    # The first heading is the title (before the property's "draft" title and the kicker above it).
    assert (article.title, article.author, article.published) == (
        "Odesa harbour pilots end their strike", "Olena Kovalenko", date(2025, 7, 1))
    assert article.text.split("\n\n") == [
        "Odesa harbour pilots end their strike",
        "WORLD NEWS",
        "Harbour pilots in Odesa returned to work on Monday after a strike that had lasted nine days.",
        "The agreement",
        "The pilots' union said its members had accepted a pay rise of 18 percent negotiated by the port authority.",
        "- Pilots boarded fourteen ships on the first day.",
        "- Two damaged tugs were repaired over the weekend.",
        "Shipping agents said the backlog of grain vessels would clear within a week.",
        "Port | Ships",
        "Odesa | 14",
    ]


def test_docx_without_a_heading_takes_the_title_property_and_a_bare_file_states_nothing(tmp_path: Path) -> None:
    prose = [(style, text) for style, text in PILOTS if not style.startswith("Heading")]
    _, article = read(tmp_path, "a.docx", pilots_docx(blocks=prose))
    assert article.title == "Pilots (draft 3)" and article.text.startswith("Pilots (draft 3)\n\nWORLD NEWS")
    # python-docx's own template says author "python-docx", created 2013: neither is the article's.
    _, article = read(tmp_path, "b.docx", pilots_docx(properties=False))
    assert article.author is None and article.published is None
    assert article.title == "Odesa harbour pilots end their strike"


def test_an_article_that_states_its_own_byline_and_date_keeps_them(tmp_path: Path) -> None:
    blocks = [("Heading 1", "Pilots end their strike"), ("Normal", "By Mykola Shevchenko"),
              ("Normal", "Published June 12, 2025"), *PILOTS[2:]]
    _, article = read(tmp_path, "a.docx", pilots_docx(blocks=blocks))
    assert (article.author, article.published) == ("Mykola Shevchenko", date(2025, 6, 12))
    assert "Olena" not in article.text and "2025-07-01" not in article.text


# A winter ferry article, made today as a PDF (so its file's creation date is today), whose own
# byline says when it was published and by whom: issue 32.3.
CHANNEL_TITLE = "Helsinki and Tallinn keep a winter channel open"
CHANNEL_BODY = [
    "Icebreakers from Finland and Estonia will keep a shipping channel between Helsinki and Tallinn",
    "open all winter, the two port authorities agreed on Tuesday.",
    "",
    "The channel will be cleared twice a day by the icebreaker Otso, and ferries will cross",
    "at reduced speed when the ice is thicker than forty centimetres.",
]


def channel_pdf(byline: list[str], created: datetime | None = None) -> bytes:
    """The channel article as a PDF with ``byline`` under its title, created ``created`` (now)."""
    return _Paper.make([[f"# {CHANNEL_TITLE}", *byline, "", *CHANNEL_BODY]], running=False,
                       created=created or datetime.now(timezone.utc))


@pytest.mark.parametrize("byline", [
    ["By Anna Virtanen | Nordic Wire", "March 3, 2026"],
    ["By Anna Virtanen · Nordic Wire · March 3, 2026 · 4 min read"],
    ["Helsinki, Tuesday 3 March 2026", "By Anna Virtanen, Nordic Wire"],
])
def test_an_uploaded_pdf_is_dated_by_its_byline_not_by_when_the_file_was_made(tmp_path: Path, byline) -> None:
    """Issue 32.3: a PDF made today was dated today (its creation date), not March 3, 2026 as its
    byline says, and its author and outlet were not read. The article's own byline and dateline
    come first, in any of the usual shapes; the file's properties only where the text states none."""
    _, article = read(tmp_path, "channel.pdf", channel_pdf(byline))
    assert (article.published, article.published_from) == (date(2026, 3, 3), "text")
    assert (article.author, article.outlet, article.title) == ("Anna Virtanen", "Nordic Wire", CHANNEL_TITLE)
    assert "March 2026" not in article.text and "March 3" not in article.text and "Virtanen" not in article.text
    assert article.text.split("\n\n")[1].startswith("Icebreakers from Finland")

    _, undated = read(tmp_path, "undated.pdf", channel_pdf([], created=datetime(2026, 3, 5, 8, 0, tzinfo=timezone.utc)))
    assert (undated.published, undated.published_from, undated.author) == (date(2026, 3, 5), "file", None)


def test_a_word_file_s_byline_comes_before_its_properties(tmp_path: Path) -> None:
    blocks = [("Heading 1", CHANNEL_TITLE), ("Normal", "By Anna Virtanen | Nordic Wire"),
              ("Normal", "March 3, 2026"), ("Normal", " ".join(CHANNEL_BODY[:2]))]
    _, article = read(tmp_path, "channel.docx", pilots_docx(blocks=blocks))  # properties: Olena, July 1, 2025
    assert (article.author, article.outlet, article.published, article.published_from) == (
        "Anna Virtanen", "Nordic Wire", date(2026, 3, 3), "text")
    _, bare = read(tmp_path, "pilots.docx", pilots_docx())
    assert (bare.author, bare.published, bare.published_from) == ("Olena Kovalenko", date(2025, 7, 1), "file")


def _bad_docx_xml() -> bytes:
    good = zipfile.ZipFile(io.BytesIO(pilots_docx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for item in good.infolist():
            package.writestr(item, b"<w:document broken" if item.filename == "word/document.xml" else good.read(item))
    return buffer.getvalue()


def _aes256():
    from fpdf.enums import EncryptionMethod

    return EncryptionMethod.AES_256


def _wordless_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("")
    document.add_paragraph("   ")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


BAD = {
    "locked.pdf": (lambda: ferry_pdf(owner_password="o", user_password="secret"), r"^password-protected PDF"),
    "locked-aes.pdf": (lambda: ferry_pdf(owner_password="o", user_password="secret",
                                         encryption_method=_aes256()), r"^password-protected PDF"),
    "scanned.pdf": (scanned_pdf, r"^no text layer on its page \(a scanned image\?\): run OCR first"),
    "truncated.pdf": (lambda: ferry_pdf()[:1500], r"^truncated PDF"),
    "corrupt.pdf": (lambda: b"%PDF-1.7\n" + random.Random(3).randbytes(4000) + b"\n%%EOF\n", r"^corrupt PDF \("),
    "word-named.pdf": (pilots_docx, r"^not a PDF: it is a zip file"),
    "zip-of-text.docx": (lambda: zip_of({"notes.txt": "x", "photo.jpg": "y"}),
                         r"^not a Word document: a zip of something else \(no word/document.xml; it holds notes.txt"),
    "workbook.docx": (lambda: zip_of({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}),
                      r"^not a Word document: a zip of something else \(an Excel workbook\)"),
    "truncated.docx": (lambda: pilots_docx()[:3000], r"^corrupt or truncated .docx"),
    "broken-xml.docx": (_bad_docx_xml, r"^corrupt .docx \(XMLSyntaxError"),
    "protected.docx": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), r"^password-protected Word file"),
    "pdf-named.docx": (ferry_pdf, r"^not a Word document: it is a PDF: rename it to .pdf"),
    "wordless.docx": (_wordless_docx, r"^no text in the Word document"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_unusable_files_are_refused_with_a_reason(tmp_path: Path, name: str, capfd) -> None:
    make, reason = BAD[name]
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(InputError, match=reason):
        read_file(path, LIMIT)
    assert capfd.readouterr().err == ""                  # no traceback, nor pypdf's repair warnings


def test_a_damaged_pdf_that_pypdf_repairs_is_read_without_printing_its_warnings(tmp_path: Path) -> None:
    """As a real process with no logging set up, where Python would print pypdf's warnings."""
    data = ferry_pdf()
    path = tmp_path / "damaged.pdf"
    path.write_bytes(data[:data.rindex(b"startxref")] + b"startxref\n999\n%%EOF\n")  # a wrong xref offset
    process = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from index.loading import read_file; "
                               "print(read_file(Path(sys.argv[1]), 10**7).text)", str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert process.returncode == 0 and process.stderr == "", process.stderr
    assert FERRY_SENTENCE in process.stdout


def test_a_pdf_protected_only_against_changes_is_read(tmp_path: Path) -> None:
    """An owner password alone (no password to open) is common on published PDFs: it is read."""
    _, article = read(tmp_path, "ro.pdf", ferry_pdf(owner_password="o", encryption_method=_aes256()))
    assert FERRY_SENTENCE in article.text


def test_a_docx_that_unpacks_too_far_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/document.xml", b" " * 30_000_000)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(InputError, match=r"unpacks to 30 MB, over the 20 MB allowed"):
        read_file(path, 1_000_000)


def test_folders_yield_pdf_and_docx_but_not_word_lock_files(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"x")
    (tmp_path / "b.docx").write_bytes(b"x")
    (tmp_path / "~$b.docx").write_bytes(b"x")
    (tmp_path / "c.doc").write_bytes(b"x")
    files, problems = discover([tmp_path])
    assert [f.name for f in files] == ["a.pdf", "b.docx"] and not problems


# --- ingest and ask ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_pdf_and_docx_are_ingested_beside_bad_files_and_answer_questions(seed_copy: Path, tmp_path: Path,
                                                                         real_embedder) -> None:
    from index.ingest import ingest
    from index.store import Store
    from rag.assistant import build_assistant
    from rag.config import Config

    (seed_copy / "ferry.pdf").write_bytes(ferry_pdf())
    (seed_copy / "pilots.docx").write_bytes(pilots_docx())
    for name in ("locked.pdf", "scanned.pdf", "truncated.docx", "zip-of-text.docx"):
        (seed_copy / name).write_bytes(BAD[name][0]())
    store_path = tmp_path / "store"
    report = ingest([seed_copy], Store.open(path=store_path), lambda: real_embedder, real_embedder.name,
                    progress=False)
    reasons = {Path(p.source).name: p.reason for p in report.skipped}
    assert set(reasons) == {"locked.pdf", "scanned.pdf", "truncated.docx", "zip-of-text.docx"}
    assert reasons["scanned.pdf"].startswith("no text layer") and "OCR" in reasons["scanned.pdf"]
    assert len(report.added) == 7                          # the five seeds, the PDF and the DOCX

    records = {Path(r.source).name: r for r in Store.open(path=store_path).articles().values()}
    assert (records["ferry.pdf"].title, records["ferry.pdf"].author, records["ferry.pdf"].published) == (
        "Danube ferry crossings resume", "Ioana Popescu", "2025-03-04")
    assert (records["pilots.docx"].title, records["pilots.docx"].author, records["pilots.docx"].published) == (
        "Odesa harbour pilots end their strike", "Olena Kovalenko", "2025-07-01")

    assistant = build_assistant(Config(store_path=store_path, llm="extractive"), embedder=real_embedder)
    for question, source, words in (
        ("How many lorries a day will the ferry between Izmail and Isaccea carry?", "ferry.pdf",
         "240 lorries a day under the supervision of a joint customs team"),
        ("What pay rise did the Odesa harbour pilots accept?", "pilots.docx", "a pay rise of 18 percent"),
    ):
        answer = assistant.ask(question)
        assert not answer.abstained, answer.text
        cited = [c for c in answer.citations if Path(c.source).name == source]
        assert cited and any(words in c.quote for c in cited), answer.to_dict()
        assert "[1]" in answer.text


@pytest.mark.slow
def test_rag_ingest_names_pdf_and_docx_and_lists_the_bad_one(tmp_path: Path) -> None:
    from rag.cli import main

    (tmp_path / "ferry.pdf").write_bytes(ferry_pdf())
    (tmp_path / "pilots.docx").write_bytes(pilots_docx())
    (tmp_path / "scanned.pdf").write_bytes(scanned_pdf())
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", "--no-progress", str(tmp_path / "ferry.pdf"), str(tmp_path / "pilots.docx"),
                                  str(tmp_path / "scanned.pdf")], env={"RAG_STORE_PATH": str(tmp_path / "store")})
    assert result.exit_code == 0, result.output
    assert "added          2" in result.output and "skipped        1" in result.output
    assert "scanned.pdf: no text layer on its page (a scanned image?): run OCR first" in result.output
    assert "Traceback" not in result.output


# --- lists (issue 18) -------------------------------------------------------------------------------

LIST_LEAD = "The pact sets out the following measures:"
LIST_INTRO = ("Varn and Skelda signed a fisheries pact in Tromso on Monday after two years of talks. "
              "Both governments said the deal would hold for a decade.")
#: Each shape: (ordered, [(item, [sub-items])]).
LIST_SHAPES = {
    "unpunctuated": (False, [("a quota of 9,400 tonnes of cod for the Varn fleet", []),
                             ("compensation of 31 million kroner for the Skelda fishermen", [])]),
    "short": (False, [("cod", []), ("herring", []), ("31 million kroner", [])]),
    "nested": (False, [("fisheries", [("a quota of 9,400 tonnes of cod", []), ("compensation for fishermen", [])]),
                       ("ports", [("two harbours reopen", [])])]),
    "numbered": (True, [("a quota of 9,400 tonnes of cod", []), ("compensation for fishermen", []),
                        ("joint patrols", [])]),
}


def _flat(items, depth: int = 0):
    for text, children in items:
        yield depth, text
        yield from _flat(children, depth + 1)


def list_article(kind: str, shape: str) -> bytes:
    """The fisheries article ending on a list of the given shape, as a file of the given kind."""
    ordered, items = LIST_SHAPES[shape]
    title = "Fisheries pact signed"
    flat = list(_flat(items))
    marks = [f"{n}." if ordered and depth == 0 else "-" for n, (depth, _) in enumerate(flat, 1)]
    if kind in ("md", "txt"):
        lines = [f"{'  ' * depth}{mark} {text}" for (depth, text), mark in zip(flat, marks)]
        heading = f"# {title}" if kind == "md" else title
        return "\n\n".join([heading, LIST_INTRO, LIST_LEAD, "\n".join(lines)]).encode() + b"\n"
    if kind == "html":
        def render(items, top: bool) -> str:
            tag = "ol" if ordered and top else "ul"
            inner = "".join(f"<li>{text}{render(children, False) if children else ''}</li>" for text, children in items)
            return f"<{tag}>{inner}</{tag}>"
        return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{LIST_INTRO}</p>"
                f"<p>{LIST_LEAD}</p>{render(items, True)}</article></body></html>").encode()
    if kind == "docx":
        import docx

        document = docx.Document()
        document.add_paragraph(title, style="Heading 1")
        document.add_paragraph(LIST_INTRO)
        document.add_paragraph(LIST_LEAD)
        for depth, text in flat:
            style = ("List Number" if ordered else "List Bullet") + (" 2" if depth else "")
            document.add_paragraph(text, style=style)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
    if kind == "pdf":
        lines = [f"{'    ' * depth}{mark} {text}" for (depth, text), mark in zip(flat, marks)]
        return _Paper.make([[f"# {title}", "", LIST_INTRO[:86], LIST_INTRO[87:], "", LIST_LEAD, *lines]],
                           running=False)
    raise ValueError(kind)


@pytest.mark.parametrize("shape", sorted(LIST_SHAPES))
@pytest.mark.parametrize("kind", ["md", "txt", "html", "docx", "pdf"])
def test_a_list_of_any_shape_in_any_format_is_in_the_passages_with_its_lead_in(tmp_path: Path, kind: str,
                                                                                shape: str) -> None:
    """Issue 18: an article ending on a list lost every item that was not a sentence of four words
    or more (taken as a heading, and a heading with nothing after it made no passage)."""
    from index.chunking import chunk, uncovered

    _, article = read(tmp_path, f"pact.{kind}", list_article(kind, shape))
    passages = chunk(article.text, "a", "v" * 32)
    assert all(article.text[p.start:p.end] == p.text for p in passages)
    assert uncovered(article.text, [(p.start, p.end) for p in passages]) == 0, [p.text for p in passages]
    _, items = LIST_SHAPES[shape]
    together = [p for p in passages if LIST_LEAD in p.text]
    assert together and all(text in together[-1].text for _, text in _flat(items)), (kind, article.text)


def _variant(kind: str, names: dict[str, str]) -> bytes:
    """The unpunctuated-list article as ``kind``, its names and figures changed (one article per format)."""
    text = list_article(kind, "unpunctuated").decode()
    for old, new in names.items():
        text = text.replace(old, new)
    return text.encode()


LIST_VARIANTS = {  # file: (names changed, question, the answer's words)
    "pact.md": ({}, "How many tonnes of cod does the Varn fleet get?", "9,400"),
    "accord.html": ({"Varn": "Orsk", "Skelda": "Tamsel", "cod": "herring", "9,400": "6,200",
                     "Fisheries pact": "Herring accord"}, "How many tonnes of herring does the Orsk fleet get?", "6,200"),
    "deal.txt": ({"Varn": "Lerin", "Skelda": "Brask", "31 million": "8 million", "Fisheries pact": "Haddock deal"},
                 "How much compensation will the Brask fishermen receive?", "8 million kroner"),
}


@pytest.fixture(scope="module")
def list_store(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    """The seeds and one list-ending article in each of .md, .html and .txt, indexed with the real model."""
    import shutil

    from index.ingest import ingest
    from index.store import Store
    from tests.conftest import SEEDS

    folder = tmp_path_factory.mktemp("lists")
    shutil.copytree(SEEDS, folder / "articles")
    for name, (names, _, _) in LIST_VARIANTS.items():
        (folder / "articles" / name).write_bytes(_variant(name.rsplit(".", 1)[1], names))
    report = ingest([folder / "articles"], Store.open(path=folder / "store"), lambda: real_embedder,
                    real_embedder.name, progress=False)
    assert len(report.added) == 8, report.summary()
    return folder / "store"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LIST_VARIANTS))
def test_a_question_about_a_list_item_is_answered_from_it(list_store: Path, real_embedder, name: str) -> None:
    """Issue 18: "How many tonnes of cod does the Varn fleet get?" abstained: the item was in no passage."""
    from rag.assistant import build_assistant
    from rag.config import Config

    _, question, words = LIST_VARIANTS[name]
    answer = build_assistant(Config(store_path=list_store, llm="extractive"), embedder=real_embedder).ask(question)
    assert not answer.abstained and words in answer.text, answer.to_dict()
    assert any(Path(c.source).name == name and words in c.quote for c in answer.citations), answer.to_dict()


MINES_TXT = """Orsk Minerals buys three mines

Orsk Minerals agreed on Monday to buy three mines from Tamsel Holdings for 2.1 billion dollars. The sale still \
needs the approval of regulators in Canberra.

The three mines in the deal
Kestrel Ridge mine near Kalgoorlie in Western Australia
Copper Hill mine near Mount Isa in Queensland
Grey Point mine on the coast of Tasmania

Work on the first of them begins in March, the company said.
"""


@pytest.mark.slow
def test_an_unpunctuated_txt_list_under_a_lead_in_without_a_colon_answers_questions(tmp_path: Path,
                                                                                    real_embedder) -> None:
    """Issue 29.6: the list was indexed, but its lines were taken for headings, so "Where is the
    Kestrel Ridge mine?" asked of that file (`rag ask --source mines.txt`) said "The articles
    don't say". Real model, real Chroma, a real .txt file."""
    import shutil

    from index.ingest import ingest
    from index.store import Store
    from rag.assistant import build_assistant
    from rag.config import Config
    from rag.retrieval import Filters
    from tests.conftest import SEEDS

    shutil.copytree(SEEDS, tmp_path / "articles")
    (tmp_path / "articles" / "mines.txt").write_text(MINES_TXT, encoding="utf-8")
    ingest([tmp_path / "articles"], Store.open(path=tmp_path / "store"), lambda: real_embedder, real_embedder.name,
           progress=False)
    assistant = build_assistant(Config(store_path=tmp_path / "store", llm="extractive"), embedder=real_embedder)
    answer = assistant.ask("Where is the Kestrel Ridge mine?", filters=Filters(sources=("mines.txt",)))
    assert not answer.abstained and "Kestrel Ridge mine near Kalgoorlie in Western Australia" in answer.text, \
        answer.to_dict()
    assert any("Kalgoorlie" in c.quote for c in answer.citations)


@pytest.mark.slow
def test_doctor_counts_article_text_in_no_passage_and_repair_splits_it_again(list_store: Path, tmp_path: Path,
                                                                             real_embedder) -> None:
    """A store whose passages leave text out (as every store an older chunker built from a list-ending
    article): ``rag doctor`` counts the characters, and ``--repair`` makes the passages again."""
    import shutil

    from index.chunking import Chunk, passage_id
    from index.store import Store
    from rag.cli import main
    from tests.test_ingest import assert_consistent

    store_path = tmp_path / "store"
    shutil.copytree(list_store, store_path)
    runner = CliRunner()
    healthy = runner.invoke(main, ["--store", str(store_path), "doctor"])
    assert healthy.exit_code == 0, healthy.output
    assert "8 articles" in healthy.output and "0 characters of article text in no passage" in healthy.output

    store = Store.open(path=store_path)
    record = next(r for r in store.articles(with_text=True).values() if Path(r.source).name == "pact.md")
    end = record.text.index(LIST_LEAD) + len(LIST_LEAD)  # what the old chunker made: nothing after the lead-in
    old = Chunk(passage_id(record.id, record.version, 0, end), record.id, record.version, 0, 0, end,
                  record.text[:end])
    store.delete_passages(article_id=record.id)
    store.write_articles([(replace(record, passages=1), [old], real_embedder.embed([old.text]))])
    left_out = sum(not ch.isspace() for ch in record.text[end:])

    checked = runner.invoke(main, ["--store", str(store_path), "doctor"])
    assert checked.exit_code == 1, checked.output
    assert f"{left_out} characters of article text in no passage" in checked.output
    assert f"Fisheries pact signed: {left_out} characters of its text are in no passage" in checked.output
    assert "doctor --repair`" in checked.output
    repaired = runner.invoke(main, ["--store", str(store_path), "doctor", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "embedded 1 article(s) again" in repaired.output and "after repair: no problem found" in repaired.output
    again = runner.invoke(main, ["--store", str(store_path), "doctor"])
    assert again.exit_code == 0 and "0 characters of article text in no passage" in again.output, again.output
    assert_consistent(Store.open(path=store_path))
