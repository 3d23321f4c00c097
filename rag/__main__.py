"""``python -m rag ...``: the same as the ``rag`` command (for clients that start a module, not a script)."""

from rag.cli import main

if __name__ == "__main__":
    main(prog_name="rag")
