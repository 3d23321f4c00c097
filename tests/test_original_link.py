"""A link to the original article: the address a web page states for itself is read at ingest
(index.loading.page_address), kept in the article's record (stores made before still open), given
to each citation (Answer.to_dict) and shown on the page's source card as a link to a new tab."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.loading import page_address, read_file
from index.records import ArticleRecord
from rag.answer import Answer, Citation

ADDRESS = "https://news.example.org/2031/04/orsa-ferry"
PAGE = f"""<!DOCTYPE html>
<html><head><title>Ferry returns to Lake Orsa</title>
<link rel="canonical" href="{ADDRESS}">
<meta property="og:url" content="{ADDRESS}?from=og">
</head><body><article><h1>Ferry returns to Lake Orsa</h1>
<p>The Lake Orsa ferry resumed service on Monday after a winter of repairs, the harbour office said.</p>
<p>Its captain, Lena Sund, said the boat now carries 120 passengers on each crossing of the lake.</p>
</article></body></html>
"""


def head(inside: str, before: str = "") -> str:
    return f"{before}<html><head>{inside}</head><body><p>A sentence of the article is here.</p></body></html>"


@pytest.mark.parametrize("html, expected", [
    (PAGE, ADDRESS),                                                                # canonical first
    (head(f'<meta property="og:url" content="{ADDRESS}">'), ADDRESS),                # Open Graph
    (head(f'<meta name="twitter:url" content="{ADDRESS}">'), ADDRESS),               # Twitter card
    (head('<link rel="canonical" href="/2031/04/orsa-ferry">'
          '<meta property="og:url" content="https://news.example.org/">'), ADDRESS),  # relative, read against og:url
    (head("", f"<!-- saved from url=(0043){ADDRESS} -->\n"), ADDRESS),               # a browser's "Save page as"
    (head('<link rel="canonical" href="javascript:alert(1)">'), None),               # never a script
    (head('<meta property="og:url" content="file:///etc/passwd">'), None),
    (head('<link rel="canonical" href="/only/a/path">'), None),                      # relative, nothing to read it against
    (head(""), None),
    ("not a web page at all", None),
])
def test_the_address_a_page_states_for_itself(html: str, expected: str | None) -> None:
    assert page_address(html) == expected


def test_an_html_file_is_read_with_its_address_a_text_file_without(tmp_path: Path) -> None:
    (tmp_path / "orsa.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "orsa.txt").write_text(f"Ferry returns\n\nSee {ADDRESS} for more. The ferry runs again.\n",
                                       encoding="utf-8")
    assert read_file(tmp_path / "orsa.html", 1_000_000).url == ADDRESS
    assert read_file(tmp_path / "orsa.txt", 1_000_000).url is None


def test_the_address_is_kept_in_the_record_and_a_store_made_before_still_opens(tmp_path: Path) -> None:
    from index.ingest import ingest
    from index.store import Store
    from tests.fakes import HashEmbedder

    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "orsa.html").write_text(PAGE, encoding="utf-8")
    embedder = HashEmbedder()
    ingest([tmp_path / "articles"], Store.open(path=tmp_path / "store"), lambda: embedder, embedder.name,
           progress=False)
    [record] = Store.open(path=tmp_path / "store").articles().values()
    assert record.url == ADDRESS and record.title == "Ferry returns to Lake Orsa"
    passage = type("Passage", (), {"start": 0, "end": 10, "index": 0, "section": ""})()
    assert record.passage_metadata(passage)["url"] == ADDRESS
    # A record written before addresses were kept has none, and reads as before.
    older = ArticleRecord._from("a1", {"source": "orsa.html", "version": "v1", "passages": 2, "title": "Ferry"}, "text")
    assert older.url is None and "url" not in older.passage_metadata(passage)


def citation(url: str | None) -> Citation:
    return Citation(n=1, source="/srv/articles/orsa.html", title="Ferry returns", published=None,
                    quote="The ferry runs again.", start=0, end=21, score=0.9, url=url)


def test_a_citation_carries_the_address_to_every_client() -> None:
    assert citation(ADDRESS).to_dict()["url"] == ADDRESS
    assert citation(None).to_dict()["url"] is None


def test_the_source_card_links_to_the_original_in_a_new_tab_and_never_to_a_script() -> None:
    from ui import render
    from ui.app import linked

    answer = Answer(question="When did the ferry return?", text="On Monday. [1]", abstained=False,
                    citations=[citation(None)], supported=(1, 1), answerer="extractive", timings={})
    record = ArticleRecord(id="a1", source="/srv/articles/orsa.html", version="v", passages=1, url=ADDRESS)
    answer = linked(answer, [record])
    assert answer.citations[0].url == ADDRESS
    card = render.sources_html(answer, 1)
    assert (f'<a class="original" href="{ADDRESS}" target="_blank" rel="noopener noreferrer"' in card
            and "Original article" in card)
    hostile = render.sources_html(Answer(**{**answer.__dict__, "citations": [citation("javascript:alert(1)")]}), 1)
    assert 'class="original"' not in hostile and "javascript:" not in hostile
    quoted = render.original_link('https://x.example/"onmouseover="alert(1)')
    assert '"onmouseover' not in quoted and "&quot;onmouseover" in quoted
