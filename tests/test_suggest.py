"""Suggested follow-up questions (rag.suggest): each made from a sentence of a cited article that
the answer does not quote, by its grammar alone. The article here is invented (no rule is tuned on
the seeds); the last test asks the suggestions for a seed answer and checks that they are answered."""

from __future__ import annotations

import pytest

from rag import nlp
from rag.answer import Answer, Citation
from rag.suggest import follow_ups, questions

ARTICLE = """Envoys from Norland and Sudmark meet in Vienna over the Kessel harbour

Delegations from Norland and Sudmark met in Vienna on March 3, 2031 to negotiate the reopening of the Kessel harbour. The talks were chaired by the Austrian mediator Ilse Brandauer.

Norland returned 42 fishing boats to Sudmark in April 2031. He said that it would take time.

Sudmark's foreign minister Tomas Weber described the talks as difficult. Norland did not sign the harbour treaty in Vienna.
"""
RETURNED = "Norland returned 42 fishing boats to Sudmark in April 2031."


def sentence(text: str):
    return next(nlp.pipeline()(text).sents)


@pytest.mark.parametrize("text, expected", [
    ("Delegations from Norland and Sudmark met in Vienna on March 3, 2031 to negotiate the reopening of the harbour.",
     [("where", "Where did delegations from Norland and Sudmark meet?"),
      ("when", "When did delegations from Norland and Sudmark meet?")]),
    (RETURNED, [("when", "When did Norland return 42 fishing boats?"),
                ("how-many", "How many fishing boats did Norland return?")]),
    ("Sudmark's foreign minister Tomas Weber described the talks as difficult.",
     [("how", "How did Sudmark's foreign minister Tomas Weber describe the talks?")]),
    ("Norland's envoy Mara Lind said that the boats would return within a month.",
     [("what", "What did Norland's envoy Mara Lind say?")]),
    ("The Kessel harbour talks were held at the Hofburg in Vienna.",
     [("where", "Where were the Kessel harbour talks held?")]),
    ("Ilse Brandauer chaired the Kessel harbour talks in Vienna.",
     [("who", "Who chaired the Kessel harbour talks in Vienna?")]),
])
def test_a_sentence_is_asked_back_as_its_grammar_allows(text: str, expected: list) -> None:
    assert questions(sentence(text)) == expected


@pytest.mark.parametrize("text", [
    "He said that it would take time.",                          # a pronoun: who is "he"?
    "These talks were held in Vienna in 2031.",                  # a demonstrative: which talks?
    "Norland did not sign the harbour treaty in Vienna.",        # negated
    "Sudmark may reopen the Kessel harbour in Vienna next year.",  # a modal: not a fact to ask about
    "The talks were held in a small room.",                      # nothing named: which talks?
    "Kessel harbour",                                            # no verb
])
def test_a_sentence_that_would_give_a_vague_question_gives_none(text: str) -> None:
    assert questions(sentence(text)) == []


def citing(quote: str, n: int = 1, article_id: str = "a1", text: str = ARTICLE) -> Citation:
    """A citation of ``quote`` in ``text``, through a passage of the article ``article_id``."""
    from rag.retrieval import Passage

    start = text.index(quote)
    passage = Passage(id=f"p{n}", text=quote, article_id=article_id, source="/articles/vienna.html",
                      title="Envoys meet in Vienna", start=start, end=start + len(quote), published=None, outlet=None,
                      score=1.0, similarity=1.0)
    return Citation(n=n, source=passage.source, title=passage.title, published=None, quote=quote, start=start,
                    end=start + len(quote), score=1.0, passage=passage)


def answer_citing(quote: str, question: str, text: str = ARTICLE) -> Answer:
    return Answer(question=question, text=f"{quote} [1]", abstained=False, citations=[citing(quote, text=text)],
                  supported=(1, 1), answerer="extractive", timings={})


def test_follow_ups_come_from_the_cited_article_never_from_what_the_answer_quotes() -> None:
    answer = answer_citing(RETURNED, "What did Norland give back to Sudmark?")
    suggested = follow_ups(answer, lambda article_id: ARTICLE)
    made = {q for line in ARTICLE.splitlines()[2:] for text in line.split(". ") if text
            for _, q in questions(sentence(text))}
    assert 2 <= len(suggested) <= 3 and set(suggested) <= made, suggested
    assert not any("fishing boats" in q for q in suggested)  # the quoted sentence is the answer itself
    assert len({q.split()[0] for q in suggested}) == len(suggested)  # kinds varied: Where, When, How ...
    assert follow_ups(answer, lambda article_id: ARTICLE, limit=1) == suggested[:1]


def test_no_follow_ups_without_an_answer_or_the_cited_text() -> None:
    answer = answer_citing(RETURNED, "What did Norland give back?")
    assert follow_ups(answer, lambda article_id: None) == []
    abstained = Answer(question="Who won the 1930 World Cup?", text="The articles don't say.", abstained=True,
                       citations=[], supported=(0, 0), answerer="abstained", timings={})
    assert follow_ups(abstained, lambda article_id: ARTICLE) == []


def test_a_follow_up_that_only_repeats_a_question_asked_is_left_out() -> None:
    answer = answer_citing(RETURNED, "Where did delegations from Norland and Sudmark meet in Vienna?")
    assert "Where did delegations from Norland and Sudmark meet?" not in follow_ups(answer, lambda article_id: ARTICLE)
    weber = "How did Sudmark's foreign minister Tomas Weber describe the talks?"
    assert weber in follow_ups(answer, lambda article_id: ARTICLE)
    assert weber not in follow_ups(answer, lambda article_id: ARTICLE, asked=["How did Tomas Weber describe the talks?"])


def test_each_cited_article_is_read_once_by_its_id() -> None:
    """Two citations of one article read it once, by its passage's article id; a citation with
    no passage names no article to read."""
    reads: list[str] = []

    def article_text(article_id: str) -> str:
        reads.append(article_id)
        return ARTICLE

    quoted = "Sudmark's foreign minister Tomas Weber described the talks as difficult."
    bare = Citation(n=3, source="x", title="x", published=None, quote="q", start=0, end=1, score=1.0)
    answer = Answer(question="What did Norland give back?", text=f"{RETURNED} [1] {quoted} [2]", abstained=False,
                    citations=[citing(RETURNED), citing(quoted, n=2), bare], supported=(2, 2),
                    answerer="extractive", timings={})
    assert follow_ups(answer, article_text) and reads == ["a1"]


@pytest.mark.slow
def test_each_follow_up_of_a_seed_answer_is_answered_from_the_articles(assistant) -> None:
    """Asking a suggestion yields an answer, not "the articles don't say", from an article the
    first answer cited."""
    answer = assistant.ask("How many prisoners did each side exchange in Istanbul?")
    suggested = follow_ups(answer, assistant.corpus.article_text)
    assert 2 <= len(suggested) <= 3, suggested
    cited = {c.source for c in answer.citations}
    for question in suggested:
        reply = assistant.ask(question)
        assert not reply.abstained, (question, reply.text)
        assert cited & {c.source for c in reply.citations}, (question, reply.citations)
