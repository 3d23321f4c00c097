"""Where the public data sets live: one resolver for every user of them.

The project commits no file that came from another repository (corpora, data sets, saved pages).
Such data lives in a folder beside the repository, ``../shared/data`` from its root, where the
team's machines and CI have it; a user elsewhere points at their own copy with the environment
variable ``RAG_DATA`` (or a command's ``--data`` option, which sets it). The eval suites
(``squad``, ``news``), the benchmarks' ``--corpus bbc``, the reader's training and the cleaning
tests all find their files through :func:`require`.

The answering code never needs any of it: a missing data set only stops the command that asked
for it, with :class:`DataMissing`, whose message names the file, where it comes from (source and
licence) and how to point at a copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from index.errors import RagError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV = "RAG_DATA"


@dataclass(frozen=True)
class DataSet:
    """A public data set: its path inside the data folder, what it is, its source and licence."""

    path: str
    what: str
    source: str
    licence: str


#: The data sets the project reads, keyed by a short name (``../shared/data/README.md`` has more).
DATA_SETS = {
    "squad-normans": DataSet(
        "squad/squad2-dev-normans.json",
        'SQuAD 2.0 dev, the article "Normans" (the squad eval suite)',
        "SQuAD 2.0 (Rajpurkar, Jia and Liang, ACL 2018), https://rajpurkar.github.io/SQuAD-explorer/ "
        '(dev-v2.0.json, its first article)', "CC BY-SA 4.0"),
    "squad-train-first10": DataSet(
        "squad/squad2-train-first10.json",
        "SQuAD 2.0 train, its first 10 articles (the reader's training data)",
        "SQuAD 2.0 train-v2.0.json, https://rajpurkar.github.io/SQuAD-explorer/ (its first 10 articles)",
        "CC BY-SA 4.0"),
    "squad-train-432": DataSet(
        "squad/squad11-train-explorer-432.json",
        "SQuAD v1.1 train, the other 432 articles (the reader's training data)",
        "SQuAD v1.1 train (Rajpurkar et al. 2016), rebuilt from the SQuAD explorer's pages "
        "(github.com/rajpurkar/SQuAD-explorer, explore/1.1/train/)", "CC BY-SA 4.0"),
    "bbc": DataSet(
        "bbc",
        "the BBC News dataset, 2,225 articles of 2004-2005 (the news eval suite and --corpus bbc)",
        "D. Greene and P. Cunningham (ICML 2006), http://mlg.ucd.ie/datasets/bbc.html (bbc-fulltext.zip)",
        "copyright the BBC; non-commercial research use only"),
    "pages": DataSet(
        "pages",
        "six saved news pages with the passages trafilatura expects (the cleaning tests)",
        "the trafilatura repository, https://github.com/adbar/trafilatura, tests/eval/ and tests/cache/",
        "pages copyright their publishers, kept as test fixtures; trafilatura Apache-2.0"),
}


class DataMissing(RagError):
    """A public data set the command needs is not in the data folder."""


def use(folder: str | Path) -> None:
    """Point this process at the data folder ``folder`` (what a command's ``--data`` does): it sets
    ``$RAG_DATA``, so that code run from here on, and processes it starts, find the same data."""
    os.environ[ENV] = str(folder)


def data_dir() -> Path:
    """The data folder: ``$RAG_DATA`` when set, else ``../shared/data`` from the repository root."""
    configured = os.environ.get(ENV)
    return Path(configured).expanduser() if configured else PROJECT_ROOT.parent / "shared" / "data"


def missing(name: str) -> str | None:
    """Why the data set ``name`` cannot be used (one line), or None when it is there."""
    data_set = DATA_SETS[name]
    path = data_dir() / data_set.path
    if path.exists():
        return None
    where = f"${ENV} is {os.environ[ENV]!r}" if os.environ.get(ENV) else f"${ENV} is not set, so ../shared/data is used"
    return (f"{data_set.what} is missing: no {path} ({where}). It comes from {data_set.source}; "
            f"licence: {data_set.licence}. Put a copy at {data_set.path} inside a data folder and point "
            f"{ENV} (or --data) at that folder.")


def require(name: str) -> Path:
    """The path of the data set ``name`` (see :data:`DATA_SETS`), or :class:`DataMissing`."""
    problem = missing(name)
    if problem:
        raise DataMissing(problem)
    return data_dir() / DATA_SETS[name].path
