"""Uploaded articles: checked, then saved under generated names; the original name is display text.

A browser chooses an upload's name, so it is never used as a path: the file is saved as
``<uploads folder>/<random hex>.<ext>`` (the extension one of :data:`ALLOWED`), and the original
name is kept in ``names.json`` beside it, only to show. The ingest then reads the saved copy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import uuid
from pathlib import Path

from index.errors import InputError, StoreError
from index.disk import disk_full

ALLOWED = (".txt", ".md", ".html", ".pdf", ".docx")
NAMES_FILE = "names.json"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def display_name(name: str) -> str:
    """An upload's name as shown: its last path part, printable, at most 120 characters."""
    shown = _UNPRINTABLE.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return (shown[:117] + "...") if len(shown) > 120 else (shown or "upload")


def check_upload(name: str, size: int, max_mb: float) -> str:
    """The extension to save an upload under, or :class:`InputError` saying why it is refused."""
    extension = Path(display_name(name)).suffix.lower()
    if extension not in ALLOWED:
        raise InputError(f"'{display_name(name)}' is not an article file: upload {', '.join(ALLOWED)} files")
    if size <= 0:
        raise InputError(f"'{display_name(name)}' is empty: nothing to index")
    if size > max_mb * 1_000_000:
        raise InputError(f"'{display_name(name)}' is {size / 1e6:.1f} MB, over the {max_mb:g} MB limit: "
                         "split it, or raise max_file_mb (RAG_MAX_FILE_MB)")
    return extension


class Uploads:
    """The folder that holds uploaded articles, and the names they were uploaded under."""

    def __init__(self, folder: Path, max_mb: float):
        self.folder = Path(folder)
        self.max_mb = max_mb
        self._lock = threading.Lock()

    def save(self, temporary: Path, name: str) -> Path:
        """Copy the uploaded ``temporary`` file (named ``name`` by the browser) into the folder."""
        try:
            size = temporary.stat().st_size
        except OSError as error:
            raise InputError(f"the upload of '{display_name(name)}' cannot be read ({error.strerror}): "
                             "upload it again") from None
        extension = check_upload(name, size, self.max_mb)
        target = self.folder / f"{uuid.uuid4().hex}{extension}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(temporary, target)
            with self._lock:
                names = self._read()
                names[target.name] = display_name(name)
                self._write(names)
        except OSError as error:  # a full disk, say: leave no empty or partial copy behind
            target.unlink(missing_ok=True)
            full = disk_full(self.folder, f"uploads folder {self.folder}", error)
            problem = full or f"the uploads folder {self.folder} cannot be written ({error.strerror})"
            fix = "free some space there" if full else "check that it is writable"
            raise StoreError(f"{problem}: '{display_name(name)}' was not saved; {fix}, then upload it again") from None
        return target

    def names(self) -> dict[str, str]:
        """Saved file name -> the name it was uploaded under."""
        with self._lock:
            return self._read()

    def owns(self, source: str | Path) -> bool:
        """True when ``source`` is a file in the uploads folder."""
        path = Path(source)
        try:
            return path.resolve().parent == self.folder.resolve() and path.name in self.names()
        except OSError:
            return False

    def forget(self, source: str | Path) -> None:
        """Delete an uploaded file and its name (nothing happens for files that are not uploads)."""
        if not self.owns(source):
            return
        path = Path(source)
        path.unlink(missing_ok=True)
        with self._lock:
            names = self._read()
            names.pop(path.name, None)
            self._write(names)

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads((self.folder / NAMES_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, names: dict[str, str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{NAMES_FILE}.{os.getpid()}.tmp"
        try:
            temporary.write_text(json.dumps(names, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(temporary, self.folder / NAMES_FILE)
        except OSError:
            temporary.unlink(missing_ok=True)
            raise
