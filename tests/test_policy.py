"""The answer policy, piece by piece (rag/analysis.py, rag/policy.py) and end to end on the seeds:
the real spaCy pipeline, the real embedding model, real Chroma."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rag import Assistant
from rag.analysis import Analyser, Analysis
from rag.policy import (
    INSTRUCTION, NOTHING_RETRIEVED, NOTHING_TO_LOOK_FOR, UNSURE, Candidate, EntityDisagreement, FocusedComposer,
    LogisticAbstainer, Policy, features, stated_values,
)
from rag.retrieval import Passage


@pytest.fixture(scope="module")
def analyser(real_embedder) -> Analyser:
    return Analyser(embed=real_embedder.embed)


# ---- question analysis ----------------------------------------------------------------------------


@pytest.mark.parametrize("question, asked", [
    ("Who ruled the duchy?", {"PERSON", "ORG", "NORP", "GPE"}),
    ("When did the war begin?", {"DATE", "TIME"}),
    ("Where did the ministers meet?", {"GPE", "LOC", "FAC"}),
    ("How many soldiers were sent?", {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    ("In what country is the river?", {"GPE"}),       # the noun against spaCy's label descriptions
    ("What year did the treaty end?", {"DATE", "TIME"}),
    ("Which organization paid for it?", {"ORG"}),
    ("What is the main obstacle to an agreement?", set()),  # a description: no entity type
])
def test_the_asked_type_comes_from_the_parse_and_the_label_descriptions(analyser, question, asked) -> None:
    assert analyser.analyse(question).asked == asked


def test_analysis_of_entities_dates_numbers_and_follow_ups(analyser) -> None:
    first = "How many prisoners did each side exchange in Istanbul in May 2025?"
    analysis = analyser.analyse("And where were they held?", history=[first])
    assert analysis.standalone.endswith(f"(Following up on: {first})")
    assert ("Istanbul", "GPE") in analysis.entities and "istanbul" in analysis.names
    assert analysis.dates == {"may 2025"} and analysis.numbers == {"2025"}
    assert analysis.asked == {"GPE", "LOC", "FAC"} and analysis.vector is not None
    plural = analyser.analyse("Which countries sent troops?")
    assert plural.plural and plural.target == ("countri",)


def test_a_noun_the_articles_never_use_weighs_more_than_a_verb(analyser) -> None:
    """"attended" is often a paraphrase the articles put otherwise; "the Pope" is something they
    do not cover. Both unseen, only the noun counts in ``unseen_nouns``."""
    pope = analyser.analyse("What did the Pope say about the Geneva talks?")
    attend = analyser.analyse("Who attended the Geneva talks?")
    assert "pope" in pope.nouns and "say" not in pope.nouns and "attend" not in attend.nouns
    passages = [_passage("a", "The Geneva talks ended on Friday without a deal.")]
    candidates = [_candidate(0, passages[0].text, 1.0)]
    noun = features(pope, candidates, passages, "the geneva talks", unseen=frozenset({"pope"}))
    verb = features(attend, candidates, passages, "the geneva talks", unseen=frozenset({"attend"}))
    assert noun["unseen_nouns"] == 1 / len(pope.nouns) and verb["unseen_nouns"] == 0.0
    assert LogisticAbstainer().confidence(noun) < LogisticAbstainer().confidence({**noun, "unseen_nouns": 0.0})


@pytest.mark.parametrize("question, kind", [
    ("Who wrote the article about the summit?", "author"),
    ("Who is the author of the article saying the talks were difficult?", "author"),
    ("When was the article on the roadblocks published?", "published"),
    ("Which outlet published the story?", "outlet"),
    ("Who wrote the treaty?", None),  # about the news, not about an article
    ("When was the treaty published?", None),
])
def test_questions_about_the_articles_themselves(analyser, question, kind) -> None:
    assert analyser.analyse(question).about_article == kind


# ---- each decision ------------------------------------------------------------------------------


def _analysis(asked=frozenset(), plural=False, entities=()) -> Analysis:
    return Analysis(question="q", standalone="q", asked=frozenset(asked), plural=plural, entities=entities,
                    terms=("talk",))


def _candidate(passage: int, text: str, score: float, values=(), coverage: float = 1.0) -> Candidate:
    return Candidate(passage, 0, len(text), text, score, coverage, 0.5, frozenset(values))


def _passage(article: str, text: str) -> Passage:
    return Passage(id=article, text=text, article_id=article, source=f"{article}.txt", title=article, start=0,
                   end=len(text), published=None, outlet=None, score=1.0, similarity=0.5)


def test_stated_values_are_the_asked_type_minus_what_the_question_says() -> None:
    analysis = _analysis({"GPE"}, entities=(("Geneva", "GPE"),))
    assert stated_values(analysis, (("Geneva", "GPE"), ("Istanbul", "GPE"), ("Monday", "DATE"))) == {"istanbul"}
    counts = _analysis({"CARDINAL"})
    assert stated_values(counts, (("1,000", "CARDINAL"),)) == {"1000"}


def test_the_abstainer_is_monotone_in_its_evidence() -> None:
    abstainer = LogisticAbstainer()
    strong = {"similarity": 0.8, "typed": 1.0, "cosine": 0.7}
    weak = {"similarity": 0.2, "typed": 0.0, "cosine": 0.2, "unseen": 0.5, "unseen_nouns": 1.0}
    assert abstainer.confidence(strong) > 0.5 > abstainer.confidence(weak)
    assert abstainer.confidence({**strong, "date_conflict": 1.0}) < abstainer.confidence(strong)


def test_disagreement_needs_different_values_from_different_articles() -> None:
    passages = [_passage("a", "The talks were held in Geneva."), _passage("b", "The talks were held in Vienna."),
                _passage("c", "The talks were held in the Swiss city, Geneva, as in Vienna before.")]
    where = _analysis({"GPE"})
    detector = EntityDisagreement()
    geneva = _candidate(0, passages[0].text, 2.0, {"geneva"})
    vienna = _candidate(1, passages[1].text, 1.9, {"vienna"})
    assert detector.detect(where, [geneva, vienna], passages) == [geneva, vienna]
    # Agreeing in other words: the other article also names Geneva.
    swiss = _candidate(2, passages[2].text, 1.9, {"vienna"})
    assert detector.detect(where, [geneva, swiss], passages) == []
    # The same article, a much weaker sentence, or a list question: no disagreement.
    assert detector.detect(where, [geneva, _candidate(0, "Vienna hosted them.", 1.9, {"vienna"})], passages) == []
    assert detector.detect(where, [geneva, _candidate(1, passages[1].text, 1.0, {"vienna"})], passages) == []
    assert detector.detect(_analysis({"GPE"}, plural=True), [geneva, vienna], passages) == []
    # A much weaker sentence still counts when the reader marked the value in both with confidence.
    sure = lambda c, span: replace(c, reader=0.2, answer=(c.text.index(span), c.text.index(span) + len(span)),
                                   answer_p=0.8)  # noqa: E731
    far_vienna = _candidate(1, passages[1].text, 1.0, {"vienna"})
    assert detector.detect(where, [sure(geneva, "Geneva"), sure(far_vienna, "Vienna")], passages) == \
        [sure(geneva, "Geneva"), sure(far_vienna, "Vienna")]
    assert detector.detect(where, [sure(geneva, "Geneva"), sure(far_vienna, "talks")], passages) == []


def test_the_composer_leads_with_the_asked_fact_and_leaves_out_other_values() -> None:
    composer = FocusedComposer()
    when = _analysis({"DATE"})
    vague = _candidate(0, "The talks went on for a long time.", 2.0)
    dated = _candidate(0, "The talks began on 2 June.", 1.9, {"2 june"})
    other = _candidate(1, "The talks began on 5 May.", 1.8, {"5 may"})
    related = _candidate(1, "Both sides agreed to continue meeting.", 1.7)
    weak = _candidate(1, "Unrelated sentence about sport.", 0.5)
    assert composer.compose(when, [vague, dated, other, related, weak]) == [dated, vague, related]
    listing = _analysis({"GPE"}, plural=True)
    a = _candidate(0, "Russia did not attend the summit.", 2.0, {"russia"})
    b = _candidate(1, "China and Brazil also stayed away from it.", 1.9, {"china", "brazil"})
    assert composer.compose(listing, [a, b]) == [a, b]


def test_the_policy_abstains_below_its_threshold_and_says_how_sure_it_is() -> None:
    passages = [_passage("a", "The talks were held in Geneva on Monday and ended without a deal.")]
    analysis = _analysis()
    sure = Policy(threshold=0.0).decide(analysis, passages, _View())
    unsure = Policy(threshold=1.0).decide(analysis, passages, _View())
    assert sure.kind == "answer" and sure.chosen and 0 < sure.confidence < 1
    assert unsure.kind == "abstain" and unsure.reason == UNSURE and not unsure.chosen
    assert unsure.confidence == sure.confidence
    nothing = Policy().decide(Analysis(question="?", standalone="?"), passages)
    assert nothing.abstain and nothing.reason == NOTHING_TO_LOOK_FOR and nothing.confidence == 0.0


class _View:
    """The corpus the policy reads beyond the passages: here, one article."""

    def article_text(self, article_id: str) -> str:
        return "The talks were held in Geneva on Monday and ended without a deal."

    def known(self, term: str) -> bool:
        return True


def test_every_way_of_not_answering_is_one_tagged_decision() -> None:
    """Issue 20.2: an instruction, nothing retrieved and a question about an article's record
    are decided by the policy, with a reason, before any sentence is scored."""
    passages = [_passage("a", "The talks were held in Geneva on Monday and ended without a deal.")]
    policy = Policy(threshold=0.0)
    told = replace(_analysis(), instruction=True)
    assert (policy.decide(told, passages, _View()).kind, policy.decide(told, passages).reason) == ("abstain", INSTRUCTION)
    assert policy.decide(_analysis(), [], _View()).reason == NOTHING_RETRIEVED
    byline = policy.decide(replace(_analysis(), about_article="author"), passages, _View())
    assert byline.kind == "record" and byline.confidence is None and not byline.candidates


# ---- end to end ----------------------------------------------------------------------------------


def test_who_wrote_an_article_is_answered_from_its_record(assistant: Assistant) -> None:
    answer = assistant.ask("Who is the author of the article saying the talks were difficult?")
    assert not answer.abstained and "Saad" in answer.text and answer.answerer == "article-record"
    (citation,) = answer.citations
    assert Path(citation.source).name == "000_3ccfcf2aa8ed14ca.txt"
    assert citation.start == 0 and "Difficult" in citation.quote  # the header: its byline, else its title line


def test_when_an_article_was_published_comes_from_its_record(assistant: Assistant) -> None:
    answer = assistant.ask("When was the article about talks without traction published?")
    assert not answer.abstained and "June 12, 2025" in answer.text
    assert answer.citations[0].published == "2025-06-12" and answer.citations[0].quote.strip()


def test_an_article_whose_record_does_not_say_is_an_abstention(assistant: Assistant) -> None:
    answer = assistant.ask("Who wrote the article about the roadblocks to peace talks and what comes next?")
    assert answer.abstained and answer.explanation == \
        "The article the question is about, “Russia-Ukraine Peace Talks Face Roadblocks: What’s Next?”, names no author."


def test_no_publication_note_in_the_text(assistant: Assistant) -> None:
    answer = assistant.ask("Why are peace talks failing?")
    assert not answer.abstained and "was published" not in answer.text
    assert any(c.published == "2025-06-12" for c in answer.citations)


def test_an_abstention_under_filters_says_what_they_left_out(assistant: Assistant) -> None:
    answer = assistant.ask("What is the capital of Australia?", filters={"published_after": "2025-01-01"})
    assert answer.abstained
    assert "the date filter (published on or after January 1, 2025) left out 4 of 5 articles (4 with no " \
        "publication date)" in answer.explanation


def test_a_count_question_leads_with_the_count(assistant: Assistant) -> None:
    answer = assistant.ask("How many prisoners did each side exchange in Istanbul?")
    first_sentence = answer.text.split(" [")[0]
    assert "1,000" in first_sentence and 0.5 <= answer.confidence <= 1


def test_a_lead_that_echoes_the_question_is_followed_by_the_next_sentence_of_its_passage() -> None:
    composer = FocusedComposer()
    which = Analysis(question="q", standalone="q", terms=("countri", "tri", "mediat", "talk"))
    text = "Several countries have tried to mediate the talks. Turkey and Qatar hosted two rounds. Sport news."
    echo = Candidate(0, 0, 50, text[:50], 2.0, 1.0, 0.6)
    answer = Candidate(0, 51, 86, text[51:86], 0.6, 0.0, 0.3)
    later = Candidate(0, 87, 98, text[87:], 0.5, 0.0, 0.1)
    elsewhere = Candidate(1, 0, 30, "Turkey hosted the first round.", 0.4, 0.2, 0.3)
    assert composer.compose(which, [echo, elsewhere, answer, later]) == [echo, answer]
    # A lead that says something new stands alone: the weak sentence after it is left out.
    news = Candidate(0, 0, 50, "Turkey and Qatar hosted the talks in two capitals.", 2.0, 1.0, 0.6)
    assert composer.compose(which, [news, answer, later]) == [news]


def test_the_configured_threshold_is_the_fitted_one() -> None:
    from rag.config import Config
    from rag.policy import THRESHOLD

    assert Config().abstain_threshold == THRESHOLD == Policy().threshold


def test_a_record_answer_cites_the_header_line_that_states_the_value() -> None:
    """Even when that line is the article's first: the title line is only the fallback."""
    from rag.record_answers import _first_line, _header_line

    text = "By Jane Roe\nTalks resume in Vienna\n\nThe talks resumed on Monday."
    assert _header_line(text, ["Jane Roe"]) == (0, 11)
    assert _header_line(text, ["Talks resume"]) == (12, 34)
    assert _header_line(text, ["Mary Major"]) is None
    assert _first_line("\n\nTitle line\nbody") == (2, 12)


def test_the_answer_leads_with_the_words_the_reader_marked_when_it_is_confident() -> None:
    """The composer's rule, with readings written by hand (the reader itself: tests/test_reader.py)."""
    from dataclasses import replace

    from rag.answerers import ExtractiveAnswerer

    text = "The talks were mediated by Norway and Switzerland, officials said."
    start = text.index("Norway")
    sure = replace(_candidate(0, text, 0.9), reader=0.9, answer=(start, start + len("Norway and Switzerland")),
                   answer_p=0.8)
    lead, sentence = FocusedComposer().compose(_analysis(), [sure])
    assert lead.lead and lead.text == "Norway and Switzerland" and (lead.start, lead.end) == (start, start + 22)
    assert sentence is sure
    assert ExtractiveAnswerer.write([lead, sentence]) == f"Norway and Switzerland. [1] {text} [1]"
    unsure = replace(sure, answer_p=0.2)
    assert FocusedComposer().compose(_analysis(), [unsure]) == [unsure]
    most = replace(sure, answer=(0, len(text) - 5))  # most of the sentence: the sentence says it
    assert FocusedComposer().compose(_analysis(), [most]) == [most]


def test_a_question_about_the_latest_or_the_first_leads_with_the_latest_or_the_earliest_close_sentence() -> None:
    """Issue 32.6: "Where were the latest talks held?" answered with the 2022 talks. The composer
    reads when each close sentence says it happened; a much weaker sentence, or one naming no
    time, does not displace the best."""
    from rag import nlp
    from rag.analysis import recency

    old = replace(_candidate(0, "The first talks were held in Istanbul in March 2022.", 1.0), when=(2022, 3))
    new = replace(_candidate(1, "Talks were held in Geneva in February 2026.", 0.9), when=(2026, 2))
    weak = replace(_candidate(2, "Delegates met in Riyadh in May 2027.", 0.5), when=(2027, 5))
    undated = _candidate(3, "Talks were held in Vienna.", 0.95)
    latest, first = replace(_analysis(), recency=1), replace(_analysis(), recency=-1)
    assert FocusedComposer().compose(latest, [old, undated, new, weak])[0] is new
    assert FocusedComposer().compose(first, [new, old, weak])[0] is old
    assert FocusedComposer().compose(_analysis(), [old, undated, new])[0] is old  # no time asked about
    assert FocusedComposer().compose(latest, [undated, old, new])[0] is undated  # the best names no time
    # Scores far apart, but the reader finds both about as likely to answer: their dates decide.
    read_new, read_old = replace(new, score=2.4, reader=0.9), replace(old, score=1.4, reader=0.8)
    assert FocusedComposer().compose(first, [read_new, read_old])[0] is read_old
    assert FocusedComposer().compose(first, [read_new, replace(read_old, reader=0.5)])[0] is read_new
    assert [recency(nlp.parse(q)) for q in ("Where were the latest talks held?", "What was the most recent offer?",
                                            "Who made the first offer?", "Who made the offer?")] == [1, 1, -1, 0]
