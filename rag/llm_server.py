"""The local model runs out of process: llama-cpp-python's OpenAI-compatible server on a loopback
port, started and supervised here (the way Ollama runs its runners).

A GGUF file that is not a model, a llama.cpp build that dies on this CPU (SIGILL), a process killed
mid-answer, or one that hangs takes down only that child process. Its failure reaches the caller
as one :class:`~index.errors.ModelError` naming what happened and what to do; the next question
starts the server again.

* :func:`probe` asks a throwaway child process to load a GGUF and write one token: how the chat
  page decides, at start, whether to offer ``local`` at all.
* :class:`LocalServer` is one supervised server process per model file and settings, shared by the
  whole process, stopped at exit; a watcher inside it ends it when its parent is gone (even after
  a ``kill -9``), so none is left orphaned.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from index.errors import ModelError

#: The model name the server answers to; the client asks for it.
SERVED_NAME = "local"
#: Longest a probe may take (load, then 17 tokens) before the model counts as not working.
PROBE_TIMEOUT = 90.0

_PROBE = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=int(sys.argv[2]), n_gpu_layers=0, verbose=False)
if not llm.metadata.get("tokenizer.chat_template"):
    sys.exit("the model has no chat template: use an instruction-tuned (chat) GGUF")
import time
llm.create_completion("Hello", max_tokens=1, temperature=0.0)
began = time.perf_counter()
written = llm.create_completion("The talks", max_tokens=16, temperature=0.0)["usage"]["completion_tokens"]
print(written / max(time.perf_counter() - began, 1e-6))
"""


def describe_exit(returncode: int) -> str:
    """A process's exit status in words: "exit code 1", "killed by SIGILL (Illegal instruction)"."""
    if returncode >= 0:
        return f"exit code {returncode}"
    number = -returncode
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"killed by signal {number}"
    words = signal.strsignal(number) or ""
    return f"killed by {name} ({words})" if words else f"killed by {name}"


def missing_model(model: Path) -> str:
    """The message for a GGUF path that is not a file."""
    return f"GGUF model file '{model}' not found: set RAG_LLM_MODEL / --llm-model to a .gguf file"


def _advice(returncode: int) -> str:
    if returncode == -signal.SIGILL:
        return ("llama.cpp was compiled for another CPU: reinstall it with scripts/install.sh, which builds a "
                "portable llama-cpp-python")
    return "check that llm_model is a GGUF chat model this llama.cpp can load, or use --llm extractive"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    reason: str = ""
    tokens_per_second: float | None = None  # how fast it wrote a few tokens here


_probe_lock = threading.Lock()
_probed: dict[tuple[str, int], ProbeResult] = {}


def probe(model: Path, threads: int = 2, timeout: float = PROBE_TIMEOUT) -> ProbeResult:
    """Whether ``model`` loads and writes a token here, tried in a child process (once per file and
    process). ``reason`` says why not, in words for a user."""
    key = (str(Path(model).resolve()), threads)
    with _probe_lock:
        if key in _probed:
            return _probed[key]
        result = _probe(Path(model), threads, timeout)
        _probed[key] = result
        return result


def _probe(model: Path, threads: int, timeout: float) -> ProbeResult:
    if not model.is_file():
        return ProbeResult(False, missing_model(model))
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, str(model), str(threads)], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return ProbeResult(False, f"the local model '{model.name}' did not load and answer within {timeout:g} s; "
                                  "use a smaller model or --llm extractive")
    if done.returncode == 0:
        try:
            speed: float | None = float(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            speed = None
        return ProbeResult(True, tokens_per_second=speed)
    detail = _last_line(done.stderr)
    return ProbeResult(False, f"the local model '{model.name}' does not work here ({describe_exit(done.returncode)}"
                              f"{': ' + detail if detail else ''}); {_advice(done.returncode)}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The server, run so that it exits when its parent does (even after a kill -9 of the parent, when
# no atexit handler runs). PR_SET_PDEATHSIG would fire when the *thread* that started it ends.
_SERVE = """
import os, runpy, sys, threading, time
parent = int(sys.argv[1])
def watch():
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["llama_cpp.server", *sys.argv[2:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class LocalServer:
    """``python -m llama_cpp.server`` for one GGUF file on a free loopback port, started on first
    use and again after it died. Thread-safe; one per model and settings (:func:`local_server`)."""

    def __init__(self, model: Path, *, threads: int = 2, context: int = 4096, startup_timeout: float = 120.0):
        self.model = Path(model)
        self.threads = threads
        self.context = context
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.port = _free_port()  # fixed for the server's life, restarts included: clients keep the URL
        self._log = Path(tempfile.gettempdir()) / f"rag-llm-{os.getpid()}-{id(self):x}.log"
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The server's OpenAI-compatible base URL (``.../v1``); :meth:`ensure` starts it."""
        return f"http://127.0.0.1:{self.port}/v1"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ensure(self) -> None:
        """Start the server unless it is running (raises :class:`ModelError` when it cannot)."""
        with self._lock:
            if self.alive():
                return
            self._start()

    def failure(self) -> str | None:
        """Why the server is not running (None while it runs or before it was started)."""
        if self.process is None or self.process.poll() is None:
            return None
        return describe_exit(self.process.returncode)

    def stop(self, *, kill: bool = False) -> None:
        """End the server: politely, or at once with ``kill`` (a hung or stopped process); its log
        goes with it."""
        with self._lock:
            process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill() if kill else process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.unlink(missing_ok=True)

    def _start(self) -> None:
        if not self.model.is_file():
            raise ModelError(missing_model(self.model))
        command = [sys.executable, "-c", _SERVE, str(os.getpid()), "--model", str(self.model), "--host", "127.0.0.1",
                   "--port", str(self.port), "--n_ctx", str(self.context), "--n_threads", str(self.threads),
                   "--n_gpu_layers", "0", "--model_alias", SERVED_NAME]
        with open(self._log, "wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "HF_HUB_OFFLINE": "1"},
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                returncode = self.process.returncode
                detail = _last_line(self._log.read_text(errors="replace"))
                raise ModelError(f"the local model '{self.model.name}' failed to start ({describe_exit(returncode)}"
                                 f"{': ' + detail if detail else ''}); {_advice(returncode)}")
            if self._ready():
                return
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                raise ModelError(f"the local model '{self.model.name}' did not start within "
                                 f"{self.startup_timeout:g} s; use a smaller model or --llm extractive")
            time.sleep(0.2)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/models", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False


_servers_lock = threading.Lock()
_servers: dict[tuple, LocalServer] = {}


def local_server(model: Path, *, threads: int = 2, context: int = 4096) -> LocalServer:
    """The process-wide :class:`LocalServer` for ``model`` with these settings (not yet started)."""
    key = (str(Path(model).resolve()), threads, context)
    with _servers_lock:
        if key not in _servers:
            _servers[key] = LocalServer(Path(model), threads=threads, context=context)
        return _servers[key]


@atexit.register
def _stop_all() -> None:
    for server in list(_servers.values()):
        server.stop()
