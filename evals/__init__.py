"""The offline evaluation: gold questions, deterministic metrics, and the runner.

    from evals import run, load_questions
    report = run(assistant, load_questions())
"""

from evals.runner import Report, load_questions, run

__all__ = ["Report", "load_questions", "run"]
