"""The ablation of the reader's negatives, as a table (``scripts/train_reader.sh ablation`` trains
and measures the arms; this reads what they wrote):

    python -m training.ablation --record   # copy the measured arms' outcomes out of .cache, into the repo
    python -m training.ablation            # markdown: each arm's figures, and each minus "all"
    python -m training.ablation --arms shipped=training/reader-results/windows-finetune \
        all=training/reader-results/all --base shipped   # any readers so measured, each minus the base

Each arm (``.cache/reader-ablate-<arm>``: ``all``, ``other`` = without the ``other`` negatives,
``cut`` = without ``cut``, ``swap`` = without ``swap``) writes its held-apart outcomes
(``details.json``, per question), the SQuAD suite's dev half's (``normans-details.json``), the
news dev questions' where measured (``news-details.json``, ``python -m evals.reader --split
news-dev --details``) and its ``metrics.json``. ``--record``
keeps them in ``training/ablation-results/<arm>/`` (a few tens of KB, committed), because ``.cache`` does
not always survive to the next session, and one arm costs about 40 minutes on two cores. For each set: top-1 (the answering sentence
first among the 30 the bi-encoder finds closest in its article) over the answerable questions,
and answerable-vs-not AUC of the reader's best chance where the set has both kinds (Twilight
Princess's 160 crowd-written unanswerable questions, and Normans dev's). Differences are an
arm minus ``all``, question by question, with 95% paired-bootstrap intervals. An arm not yet
measured (or a set it was not measured on) is left out. ``--arms`` compares any folders holding
those two files the same way (the shipped reader's: ``python -m training.reader --evaluate-only
--details DIR/details.json`` and ``python -m evals.reader --split dev --details
DIR/normans-details.json``), each minus ``--base``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from evals.reader import _auc, _bootstrap

ARMS = ("all", "other", "cut", "swap")
#: Where the measured arms' outcomes are kept (committed).
RECORDED = Path(__file__).parent / "ablation-results"
FILES = ("details.json", "normans-details.json", "metrics.json")
OPTIONAL = ("news-details.json",)  # measured for the later arms and readers only
#: The sets compared: the held-apart articles, the SQuAD suite's dev half ("Normans") and the news
#: dev questions.
SETS = {"The_Legend_of_Zelda:_Twilight_Princess": "Twilight Princess (held apart)",
        "Sino-Tibetan_relations_during_the_Ming_dynasty": "Sino-Tibetan relations (held apart)",
        "To_Kill_a_Mockingbird": "To Kill a Mockingbird (held apart)",
        "held-apart-432": "23 held-apart articles of the 432",
        "normans-dev": "Normans, dev half",
        "news-dev": "News dev questions, each in its BBC article"}


def load_arm(folder: Path) -> dict[str, dict] | None:
    """{set: per-question outcomes} of one arm, or None while it is not measured."""
    held, normans = folder / "details.json", folder / "normans-details.json"
    if not held.is_file() or not normans.is_file():
        return None
    news = folder / "news-details.json"
    return {**json.loads(held.read_text())["reader-int8.onnx"], **_one_model(normans),
            **(_one_model(news) if news.is_file() else {})}


def _one_model(details: Path) -> dict[str, dict]:
    """The per-question outcomes in an ``evals.reader --details`` file (one model's, under its path)."""
    (sets,) = json.loads(details.read_text()).values()
    return sets


def top1(outcome: dict, pick: np.ndarray | None = None) -> float:
    hits = np.asarray(outcome["reader_top1"], dtype=float)
    return float(hits.mean() if pick is None else hits[pick].mean())


def auc(outcome: dict, pick: np.ndarray | None = None) -> float:
    scores, labels = np.asarray(outcome["reader_best"]), np.asarray(outcome["answerable"], dtype=bool)
    return _auc(scores, labels) if pick is None else _auc(scores[pick], labels[pick])


def paired(statistic, arm: dict, base: dict, n: int) -> tuple[float, float, float]:
    """``statistic(arm) - statistic(base)`` and its 95% paired-bootstrap interval over ``n``
    questions (both arms resampled with the same questions)."""
    low, high = _bootstrap(lambda pick: statistic(arm, pick) - statistic(base, pick), n, samples=2000)
    return statistic(arm, None) - statistic(base, None), low, high


def record(cache: Path, to: Path = RECORDED) -> list[str]:
    """Copy each measured arm's outcomes from ``cache`` into ``to``; the arms copied."""
    copied = []
    for arm in ARMS:
        source = cache / f"reader-ablate-{arm}"
        if load_arm(source) is not None:
            (to / arm).mkdir(parents=True, exist_ok=True)
            for name in FILES + tuple(n for n in OPTIONAL if (source / n).is_file()):
                shutil.copy(source / name, to / arm / name)
            copied.append(arm)
    return copied


def table(folders: dict[str, Path] | None = None, base_arm: str = "all") -> str:
    """The markdown table of the arms in ``folders`` ({name: folder}; default: the recorded
    ablation), each minus ``base_arm``."""
    folders = folders or {arm: RECORDED / arm for arm in ARMS}
    arms = {arm: load_arm(folder) for arm, folder in folders.items()}
    arms = {arm: sets for arm, sets in arms.items() if sets is not None}
    if base_arm not in arms:
        raise SystemExit(f"no measured '{base_arm}' arm in {folders.get(base_arm)}: run scripts/train_reader.sh "
                         "ablation, then python -m training.ablation --record (or see --help for --arms)")
    rows = [f"| set | arm | top-1 | top-1 minus {base_arm} | AUC | AUC minus {base_arm} |", "|---|---|---|---|---|---|"]
    arms = {base_arm: arms[base_arm], **arms}  # the base's row first
    for name, label in SETS.items():
        base = arms[base_arm].get(name)
        if base is None:
            continue
        answerable = len(base["reader_top1"])
        both = 0 < sum(base["answerable"]) < len(base["answerable"])
        for arm, sets in arms.items():
            outcome = sets.get(name)
            if outcome is None:  # that arm was measured on fewer sets
                continue
            cells = [label, arm, f"{top1(outcome):.3f}", "", f"{auc(outcome):.3f}" if both else "–", ""]
            if arm != base_arm:
                cells[3] = "{:+.3f} ({:+.3f} to {:+.3f})".format(*paired(top1, outcome, base, answerable))
                if both:
                    cells[5] = "{:+.3f} ({:+.3f} to {:+.3f})".format(*paired(auc, outcome, base, len(base["answerable"])))
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.ablation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default=".cache", help="the folder holding reader-ablate-<arm>/ (for --record)")
    parser.add_argument("--record", action="store_true", help=f"first copy the measured arms into {RECORDED}")
    parser.add_argument("--arms", nargs="+", metavar="NAME=DIR",
                        help="compare these folders instead (each with details.json and normans-details.json)")
    parser.add_argument("--base", default="all", help="the arm the others are compared with (default: all)")
    args = parser.parse_args(argv)
    if args.record:
        print(f"recorded: {', '.join(record(Path(args.cache))) or 'no measured arm'}")
    folders = None
    if args.arms:
        pairs = [arm.partition("=") for arm in args.arms]
        if any(not sep or not name for name, sep, _ in pairs):
            parser.error("--arms takes NAME=DIR, e.g. shipped=training/reader-results/windows-finetune")
        folders = {name: Path(folder) for name, _, folder in pairs}
    print(table(folders, args.base))


if __name__ == "__main__":
    main()
