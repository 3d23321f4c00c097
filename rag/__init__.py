"""Question answering over news articles, with every answer sentence citing its passage.

    from rag import Assistant
    assistant = Assistant.open()
    answer = assistant.ask("Who mediated the Geneva talks?")
    answer.text, answer.abstained, answer.citations, answer.to_dict()
"""

from index.errors import ConfigError, InputError, ModelError, RagError, StoreError
from rag.answer import Answer, Citation, StreamEvent
from rag.assistant import Assistant
from rag.config import Config, load_config
from rag.retrieval import Filters

__all__ = [
    "Answer", "Assistant", "Citation", "Config", "ConfigError", "Filters", "InputError", "ModelError",
    "RagError", "StoreError", "StreamEvent", "load_config",
]
