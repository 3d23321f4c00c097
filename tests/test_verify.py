"""The citation check: unsupported sentences are removed, missing citations added, wrong ones fixed.

The drafts here are written by hand (a stand-in for an LLM): what is tested is the verifier, and
the retrieval that feeds it is the real one.
"""

from __future__ import annotations

from dataclasses import replace

from rag.answerers import Answerer
from rag.assistant import Assistant
from rag.drafting import ModelDrafter
from rag.policy import Policy
from rag.retrieval import Filters
from rag.verify import Claim, Verifier, split_draft


class ScriptedAnswerer(Answerer):
    """Returns a fixed draft, as an LLM might write it. Stands in for the model on purpose."""

    name = "scripted"

    def __init__(self, draft: str):
        self.script = draft

    def _stream(self, question, passages):
        words = self.script.split(" ")
        for word in words[:-1]:  # token by token, like a streaming model
            yield word + " "
        yield words[-1]


def with_answerer(assistant: Assistant, draft: str, threshold: float | None = None) -> Assistant:
    """The assistant with the scripted draft; with ``threshold``, its policy abstains only below it
    (where whether to abstain is beside the point)."""
    policy = assistant.pipeline.policy
    if threshold is not None:
        policy = Policy(policy.scorer, policy.abstainer, policy.disagreement, policy.composer, threshold=threshold)
    return Assistant(assistant.config, replace(assistant.pipeline, policy=policy,
                                               drafter=ModelDrafter(ScriptedAnswerer(draft))))


def test_split_draft_reads_markers_before_and_after_the_full_stop() -> None:
    claims = split_draft("Russia and Ukraine agreed to swap prisoners [1]. It took three days. [2][3]\nNo marker here.")
    assert claims == [Claim("Russia and Ukraine agreed to swap prisoners.", (1,)),
                      Claim("It took three days.", (2, 3)), Claim("No marker here.", ())]


def test_a_sentence_with_a_made_up_number_is_removed(assistant: Assistant) -> None:
    scripted = with_answerer(assistant, (
        "Russia and Ukraine agreed in Istanbul to exchange 1,000 prisoners each. [1] "
        "The exchange freed 7,500 prisoners in total. [1]"))
    answer = scripted.ask("How many prisoners did each side exchange in Istanbul?")
    assert "1,000 prisoners each" in answer.text
    assert "7,500" not in answer.text
    assert answer.supported == (1, 2)
    assert answer.answerer == "scripted"


def test_missing_and_wrong_citations_are_fixed(assistant: Assistant) -> None:
    # The reader gives the two sentences this asks about a few percent (it is weak on "how did X
    # describe"), and the policy is not sure enough to answer: here the verifier is what is tested.
    scripted = with_answerer(assistant, (
        "Swiss officials described the dialogue as constructive in tone. "  # no marker
        "Russian negotiator Vladimir Medinsky characterized the discussions as businesslike. [9]"),  # no passage 9
        threshold=0.0)
    answer = scripted.ask("How did Swiss officials and the Russian negotiator Medinsky describe the Geneva talks?")
    assert answer.supported[0] == 2
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.text
    sources = {c.source.rsplit("/", 1)[-1] for c in answer.citations}
    assert sources == {"003_d89c9a04b964dece.txt", "001_e1a75e9ba97278eb.txt"}


def test_when_nothing_is_supported_the_extractive_answer_is_used(assistant: Assistant) -> None:
    scripted = with_answerer(assistant, "The capital of France is Paris. [1] Bananas are yellow. [2]")
    answer = scripted.ask("How many prisoners did each side exchange in Istanbul?")
    assert answer.answerer == "scripted->extractive"
    assert "Paris" not in answer.text and "1,000" in answer.text
    assert any("the scripted model's sentences were not supported" in note for note in answer.notes)


def test_negation_and_swapped_names_are_not_supported(assistant: Assistant) -> None:
    # The article that quotes Medinsky (the reader ranks its passage low for this question).
    passages = assistant.retriever.retrieve("How did Medinsky characterize the Geneva discussions?", top_k=5,
                                            filters=Filters(sources=("001_e1a75e9ba97278eb.txt",)))
    verifier = Verifier()
    assert verifier.check_claim(Claim("Vladimir Medinsky characterized the discussions as businesslike.", ()), passages)
    assert not verifier.check_claim(Claim("Vladimir Putin characterized the discussions as businesslike.", ()), passages)
    assert not verifier.check_claim(Claim("Medinsky did not characterize the discussions as businesslike.", ()),
                                    passages)
