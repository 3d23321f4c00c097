"""`rag ask` through click's runner, on the seed store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from rag.cli import main


def test_ask_prints_the_answer_and_its_sources(seed_store: Path) -> None:
    result = CliRunner().invoke(main, ["--store", str(seed_store), "ask", "--llm", "extractive",
                                       "How many prisoners did each side exchange in Istanbul?"])
    assert result.exit_code == 0, result.output
    assert "1,000" in result.output and "Sources:" in result.output
    assert "[1] Russia-Ukraine Peace Talks Face Roadblocks: What’s Next?" in result.output
    assert "sentences checked against their sources · extractive" in result.output


def test_ask_json_is_the_to_dict_contract(seed_store: Path) -> None:
    result = CliRunner().invoke(main, ["--store", str(seed_store), "ask", "--llm", "extractive", "--json",
                                       "What is the capital of France?"])
    data = json.loads(result.output)
    assert data["abstained"] is True and data["citations"] == [] and data["answerer"] == "abstained"
    assert data["reason"] == "unsure" and 0 < data["confidence"] < data["threshold"] == 0.60
    assert data["explanation"].startswith("Not sure enough to answer: the chance that the articles answer this is ")
    plain = CliRunner().invoke(main, ["--store", str(seed_store), "ask", "--llm", "extractive",
                                      "What is the capital of France?"])
    assert "Why: Not sure enough to answer" in plain.output and "(not answered · " in plain.output


def test_ask_filters_and_errors(seed_store: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--store", str(seed_store), "ask", "--llm", "extractive", "--json",
                                  "--source", "003_d89c9a04b964dece.txt", "What did officials say about the talks?"])
    assert {Path(c["source"]).name for c in json.loads(result.output)["citations"]} == {"003_d89c9a04b964dece.txt"}
    empty = runner.invoke(main, ["--store", str(seed_store), "ask", "--llm", "extractive", "  "])
    assert empty.exit_code == 1 and empty.output == "Error: empty question: type a question about the articles\n"


def test_ask_prints_a_quote_across_list_items_on_one_line_and_titles_with_paired_quotes() -> None:
    """Issue 19.7 in the terminal: "entrenched: - Territory…" was printed as the article's list
    debris; the CLI shows it as the page does (index.cleaning.one_line), and a title's lost
    opening quote mark is put back (index.cleaning.paired_quotes)."""
    from rag.answer import Answer, Citation
    from rag.format import format_answer

    quote = "The obstacles are deeply entrenched:\n\n- Territory in the east.\n- Security guarantees."
    citation = Citation(n=1, source="seeds/000.txt", title="Difficult’ Russia-Ukraine Peace Talks End",
                        published="2025-06-12", quote=quote, start=0, end=len(quote), score=1.0)
    answer = Answer(question="Why?", text=f"{quote} [1]", abstained=False, citations=[citation],
                    supported=(1, 1), answerer="extractive", timings={"total_ms": 12.0})
    printed = format_answer(answer)
    assert "- Territory" not in printed and "\n- " not in printed
    assert printed.startswith("The obstacles are deeply entrenched: Territory in the east. · Security guarantees. [1]")
    assert "[1] ‘Difficult’ Russia-Ukraine Peace Talks End (seeds/000.txt, published 2025-06-12)" in printed
    assert "    “The obstacles are deeply entrenched: Territory in the east. · Security guarantees.”" in printed
