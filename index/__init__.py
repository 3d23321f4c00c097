"""Articles to passages to vectors: loading, cleaning, chunking, embedding and the Chroma store.

This layer takes explicit parameters and knows nothing of the project's configuration; ``rag``
assembles it. The usual entry point is :func:`index.ingest.ingest`.
"""

from index.errors import ConfigError, InputError, ModelError, RagError, StoreError

__all__ = ["ConfigError", "InputError", "ModelError", "RagError", "StoreError"]
