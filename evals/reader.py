"""The reader on the SQuAD suite's article, apart from the rest of the answer policy.

    python -m evals.reader                          # the shipped reader, dev half
    python -m evals.reader --split test MODEL.onnx  # another reader (its tokenizer.json beside it)

For every question of the chosen half of "Normans" (``evals/squad.py``; never trained on), the 30
sentences of the article closest to the question by the bi-encoder are the candidates: top-1 and
top-3 answer sentence by the reader against the bi-encoder's own order, answerable-vs-not AUC of
each one's best score, and the reader's span exact match and F1 on the gold sentence
(``rag.reader.train.evaluate``). Compare readers on ``dev``; ``test`` is for reporting.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evals import squad
from rag.reader import DEFAULT_MODEL, TOKENIZER
from rag.reader.train import evaluate, load_articles, take_details


def normans_sets(splits: list[str]) -> dict:
    """{"normans-<split>": (items, questions)} for each split, by the suite's frozen split rule."""
    (items, _, questions), = load_articles(squad.source(), sha256=None).values()
    split_of = {q["id"]: q["split"] for q in squad.load()[2]}
    return {f"normans-{split}": [(items, [q for q in questions if split_of[q.id] == split])] for split in splits}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help="reader .onnx files (default: the shipped one)")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--record", metavar="METRICS_JSON",
                        help="also write the figures into this metrics.json (under \"normans\", by model file name)")
    parser.add_argument("--details", metavar="JSON",
                        help="also write each question's reader outcome here (for a paired comparison of readers)")
    args = parser.parse_args(argv)
    splits = ["dev", "test"] if args.split == "all" else [args.split]
    sets = normans_sets(splits)
    for model in args.models or [str(DEFAULT_MODEL)]:
        path = Path(model)
        tokenizer = path.parent / "tokenizer.json"
        result = evaluate(path, tokenizer if tokenizer.is_file() else TOKENIZER, sets)
        details = take_details(result)
        print(model, json.dumps(result, indent=1), flush=True)
        if args.details:
            Path(args.details).write_text(json.dumps({model: details}) + "\n")
        if args.record:
            record = Path(args.record)
            metrics = json.loads(record.read_text()) if record.is_file() else {}
            metrics.setdefault("normans", {})[path.name] = result
            record.write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    main()
