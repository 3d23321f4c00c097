"""The project's few exception types. Every message says what happened and what to do.

They live in ``index`` (the lower layer) so that both ``index`` and ``rag`` can raise them;
``rag`` re-exports them for users.
"""


class RagError(Exception):
    """Base class: anything the user can fix. ``str(error)`` is one line meant for them."""


class ConfigError(RagError):
    """A setting is unknown or has a bad value."""


class InputError(RagError):
    """A file, article or question cannot be used as given."""


class ModelError(RagError):
    """A model (embedding or LLM) cannot be found or loaded."""


class StoreError(RagError):
    """The Chroma store is unreachable, empty, or was built with other settings."""
