"""Question answering over news articles, with every answer sentence citing its passage."""

from index.errors import ConfigError, InputError, ModelError, RagError, StoreError
from rag.config import Config, load_config

__all__ = ["Config", "ConfigError", "InputError", "ModelError", "RagError", "StoreError", "load_config"]
