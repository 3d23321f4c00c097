"""``scripts/fit_abstention.py``, the script that refits the abstention model when the reader
changes, on a few of the seeds' dev questions (real model, real Chroma, the shipped reader): it
collects what the policy sees for each question and fits on it. Its full run takes a quarter of an
hour, so only this guards it between refits."""

from __future__ import annotations

import ast
import importlib.util
import math
from pathlib import Path

import numpy as np

from evals.suite import load_suite
from rag.config import Config
from rag.policy import FEATURES

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fit_abstention.py"


def _script():
    spec = importlib.util.spec_from_file_location("fit_abstention", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_abstention_refit_collects_the_policys_features_and_fits_them(seed_store: Path, real_embedder) -> None:
    script = _script()
    suite = load_suite("seeds", "dev")
    answerable = [q for q in suite.questions if q["answerable"] and not q.get("history")][:2]
    unanswerable = [q for q in suite.questions if not q["answerable"]][:2]
    suite.questions = answerable + unanswerable
    grid = [(1.0, 0.0), (0.5, 0.0)]
    rows = script._collect_group("seeds", suite, Config(store_path=seed_store, llm="extractive"), real_embedder, grid)

    assert [(name, gold_id, flag) for name, gold_id, flag, _, _ in rows] == \
        [("seeds", q["id"], q["answerable"]) for q in suite.questions]
    for _, _, _, features, right in rows:
        assert len(features) == len(FEATURES) and all(math.isfinite(v) for v in features)
        assert set(right) == set(grid) and all(0.0 <= v <= 1.0 for v in right.values())

    x = np.array([r[3] for r in rows])
    y = np.array([float(r[2]) for r in rows])
    weights, bias = script.fit(x, y, np.ones(len(y)), l2=1.0, steps=500)
    assert weights.shape == (len(FEATURES),) and math.isfinite(bias)
    # Fitted on these four, it ranks their answerable questions above their unanswerable ones.
    assert script.auc(x @ weights + bias, y) == 1.0


def test_a_fit_is_written_into_a_checkout_as_the_policy_reads_it(tmp_path: Path) -> None:
    """``--write`` (what ``scripts/judge_reader.sh`` runs in its scratch checkout) puts the weights,
    bias and threshold where the policy and the config read them; the shipped fit written back
    gives the same files, byte for byte."""
    import shutil

    from rag import policy

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "rag").mkdir()
    for name in ("policy.py", "config.py"):
        shutil.copy(root / "rag" / name, tmp_path / "rag" / name)
    script = _script()
    script.write_fit(tmp_path, policy.WEIGHTS, policy.BIAS, policy.THRESHOLD)
    for name in ("policy.py", "config.py"):
        assert (tmp_path / "rag" / name).read_text() == (root / "rag" / name).read_text()

    weights = {f: round(0.1 * k - 0.5, 3) for k, f in enumerate(FEATURES)}
    script.write_fit(tmp_path, weights, -1.25, 0.55)
    tree = ast.parse((tmp_path / "rag" / "policy.py").read_text())
    written = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
               if isinstance(node, ast.Assign)
               and getattr(node.targets[0], "id", "") in ("WEIGHTS", "BIAS", "THRESHOLD")}
    assert written == {"WEIGHTS": weights, "BIAS": -1.25, "THRESHOLD": 0.55}
    assert "abstain_threshold: float = Field(\n        0.55," in (tmp_path / "rag" / "config.py").read_text()
