"""Uploaded articles: checked, then saved under the name they were uploaded with, unique in the store.

An upload has one name everywhere: the file is saved as ``<uploads folder>/<its name>``, so the
page, ``rag ask``, ``rag serve`` and MCP all cite it, and filter on it, by the name the user
gave it. A browser chooses that name, so it is made safe first (:func:`upload_name`: its last
path part, without characters that no file name may hold, never hidden), and a name already
taken in the store (by an indexed article's file, or another upload) gets a number:
``report.pdf``, then ``report (2).pdf``. ``names.json`` beside the files lists the uploads (saved
name -> name shown; the same for every upload saved so).

Uploads saved before this (as ``<random hex>.<ext>``, their uploaded name only in ``names.json``)
are what :meth:`Uploads.legacy` lists: the page renames each to its uploaded name and indexes it
again (see :meth:`ui.app.Backend.adopt_upload_names`). Until then, or when the page is read-only,
their records know only the generated name: the page shows the uploaded name from ``names.json``
beside them, and the other ways in cite and filter them by the generated one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import unicodedata
from pathlib import Path
from typing import Iterable

from index.errors import InputError, StoreError
from index.disk import disk_full

ALLOWED = (".txt", ".md", ".html", ".pdf", ".docx")
NAMES_FILE = "names.json"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")
#: What no file name may hold on some system (Windows' reserved characters among them), and
#: control characters: each becomes "_".
_NOT_IN_FILE_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_STEM_CHARS, _STEM_BYTES = 100, 200  # file systems allow 255 bytes a name; room for " (n)" and the extension
#: The name uploads were saved under before they kept their own.
_GENERATED = re.compile(r"[0-9a-f]{32}\.\w+")


def display_name(name: str) -> str:
    """An upload's name as shown: its last path part, printable, at most 120 characters."""
    shown = _UNPRINTABLE.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return (shown[:117] + "...") if len(shown) > 120 else (shown or "upload")


def upload_name(name: str) -> str:
    """The file name an upload named ``name`` by the browser is saved, cited and filtered under:
    its last path part as :func:`display_name` reads it (not shortened), NFC, with characters no
    file name may hold as "_", no leading dot (a hidden file is not indexed) or Word lock-file
    mark, no trailing dot or space, and a stem of at most 100 characters (200 bytes). Its
    extension is the one :func:`check_upload` checked."""
    last = unicodedata.normalize("NFC", _UNPRINTABLE.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip())
    extension = Path(last).suffix
    stem = last[:len(last) - len(extension)]
    stem = " ".join(_NOT_IN_FILE_NAMES.sub("_", stem).split()).removeprefix("~$").strip(" .")[:_STEM_CHARS]
    while len(stem.encode("utf-8")) > _STEM_BYTES:
        stem = stem[:-1]
    return f"{stem.rstrip(' .') or 'upload'}{extension}"


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)`` … (before the extension): the first that no name in
    ``taken`` is, ignoring case (a folder on macOS or Windows does)."""
    taken = {t.casefold() for t in taken}
    stem, extension = os.path.splitext(name)
    number, candidate = 1, name
    while candidate.casefold() in taken:
        number += 1
        candidate = f"{stem} ({number}){extension}"
    return candidate


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

    def save(self, temporary: Path, name: str, taken: Iterable[str] = ()) -> Path:
        """Copy the uploaded ``temporary`` file (named ``name`` by the browser) into the folder,
        under :func:`upload_name` made unique among ``taken`` (the file names of the store's
        articles) and the folder's files."""
        try:
            size = temporary.stat().st_size
        except OSError as error:
            raise InputError(f"the upload of '{display_name(name)}' cannot be read ({error.strerror}): "
                             "upload it again") from None
        check_upload(name, size, self.max_mb)
        target: Path | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._lock:
                target = self._reserve(upload_name(name), taken)
                shutil.copyfile(temporary, target)
                names = self._read()
                names[target.name] = target.name
                self._write(names)
        except OSError as error:  # a full disk, say: leave no empty or partial copy behind
            if target is not None:
                target.unlink(missing_ok=True)
            full = disk_full(self.folder, f"uploads folder {self.folder}", error)
            problem = full or f"the uploads folder {self.folder} cannot be written ({error.strerror})"
            fix = "free some space there" if full else "check that it is writable"
            raise StoreError(f"{problem}: '{display_name(name)}' was not saved; {fix}, then upload it again") from None
        return target

    def legacy(self) -> list[tuple[Path, str]]:
        """The uploads saved under a generated name (before uploads kept theirs) whose file is
        still here, each with the name it was uploaded under."""
        return [(self.folder / saved, shown) for saved, shown in self.names().items()
                if saved != shown and _GENERATED.fullmatch(saved) and (self.folder / saved).is_file()]

    def rename(self, saved: Path, name: str, taken: Iterable[str] = ()) -> Path:
        """Give the upload ``saved`` the name ``name`` (made safe and unique as :meth:`save` does)."""
        with self._lock:
            target = self._reserve(upload_name(name), taken)
            try:
                os.replace(saved, target)
            except OSError:
                target.unlink(missing_ok=True)
                raise
            names = self._read()
            names.pop(saved.name, None)
            names[target.name] = target.name
            self._write(names)
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

    def _reserve(self, name: str, taken: Iterable[str]) -> Path:
        """A new, empty file in the folder named ``name`` or the first free ``name (n)``; created
        here, so no other upload can take the name meanwhile."""
        taken = {*taken, NAMES_FILE}
        while True:
            try:
                present = os.listdir(self.folder)
            except FileNotFoundError:
                present = []
            target = self.folder / unique_name(name, [*taken, *present])
            try:
                target.touch(exist_ok=False)
                return target
            except FileExistsError:  # made by someone else meanwhile: choose again
                taken.add(target.name)

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
