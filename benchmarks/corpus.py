"""Deterministic synthetic news corpora built from the seed articles, offline.

Each synthetic article recombines sentences drawn from the cleaned seeds, with places, people and
numbers substituted, under a generated headline. The same ``(n, seed)`` always gives the same
files. About 30 sentences per article, so ~10 passages with the default chunking.

    python -m benchmarks.corpus OUT_DIR --articles 1000
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from index.chunking import units
from index.cleaning import clean

_PLACES = ["Geneva", "Istanbul", "Vienna", "Oslo", "Doha", "Riyadh", "Helsinki", "Ankara", "Minsk", "Warsaw"]
_PEOPLE = ["Zelensky", "Zelenskyy", "Putin", "Medinsky", "Umerov", "Trump", "Kyslytsya"]
_NEW_PEOPLE = ["Kovalenko", "Petrov", "Larsen", "Haddad", "Moreau", "Novak", "Silva", "Tanaka", "Okafor"]
_NUMBER = re.compile(r"\b\d[\d,]*\b")


def seed_sentences(seeds: Path) -> list[str]:
    sentences: list[str] = []
    for path in sorted(seeds.glob("*.txt")):
        text = clean(path.read_text(encoding="utf-8")).text
        sentences += [text[u.start:u.end] for u in units(text) if not u.heading and len(text[u.start:u.end]) > 40]
    return sentences


def synthetic_article(number: int, sentences: list[str], seed: int = 0) -> str:
    rng = random.Random(seed * 1_000_003 + number)
    place, person = rng.choice(_PLACES), rng.choice(_NEW_PEOPLE)

    def vary(sentence: str) -> str:
        for old in _PLACES:
            sentence = sentence.replace(old, place)
        for old in _PEOPLE:
            sentence = sentence.replace(old, person)
        return _NUMBER.sub(lambda m: f"{rng.randint(2, 4000):,}", sentence)

    paragraphs = [" ".join(vary(rng.choice(sentences)) for _ in range(rng.randint(2, 4))) for _ in range(10)]
    title = f"Talks in {place} end with {rng.choice(['limited', 'no', 'modest'])} progress, {person} says ({number})"
    return title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def write_corpus(out: Path, articles: int, seeds: Path, seed: int = 0) -> list[Path]:
    """Write ``articles`` synthetic articles into ``out`` (created); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    sentences = seed_sentences(seeds)
    paths = []
    for number in range(articles):
        path = out / f"synthetic_{number:06d}.txt"
        path.write_text(synthetic_article(number, sentences, seed), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--seeds", type=Path, default=Path(__file__).resolve().parents[1] / "seeds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_corpus(args.out, args.articles, args.seeds, args.seed)
    print(f"wrote {args.articles} articles to {args.out}")


if __name__ == "__main__":
    main()
