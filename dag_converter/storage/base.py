"""The storage types every location shares: one `Source` type, the `Sink` protocol, StorageError.

Kept apart from the package face so that storage/local.py and storage/s3.py import them without
importing the face that loads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

from dag_converter.model import Diagnostic


#: bytes: the most a sink reads back of a file it holds (the manifest, a YAML to compare); a larger
#: file reads as missing, so it is converted and written again, never loaded whole.
MAX_READ_BACK: Final = 256 * 1024 * 1024


class StorageError(Exception):
    """A read or write in a storage location failed (S3 errors, failed local writes); str() says
    why in one line. A local read that fails raises OSError instead."""


class FolderFiles(Protocol):
    """A DAG folder's files by '/'-separated path below its root (analyzer._folder.FolderReader)."""

    def kind(self, relative: str) -> str | None: ...

    def read(self, relative: str, limit: int) -> bytes | str: ...

    def version(self, relative: str) -> str: ...

    def digest(self, relative: str, data: bytes | None = None) -> str: ...


@dataclass(frozen=True, slots=True)
class Source:
    """A DAG file to convert, wherever it lives."""

    display: str  #: as the user gave it (joined with the folder walk); its key in the manifest and report
    relative: str  #: relative to the input root, '/'-separated: names the YAML's source
    fingerprint: str  #: changes whenever the content may have changed ('' never matches a manifest entry)
    size: int | None  #: known before reading (a listing, a stat), for the size limit
    reader: Callable[[], bytes] = field(repr=False, compare=False)  #: what read() calls
    explicit: bool = False  #: named by the user, not found in a folder
    #: the DAG folder whose modules, data and template files the file may use (read statically): a
    #: local folder, or an S3Folder (the analyzer's FolderReader protocol) for an s3:// prefix
    root: "Path | FolderFiles | None" = None
    #: after read(): the fingerprint of the bytes actually read (S3: the GET's ETag), when it can differ
    read_fingerprint: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    def read(self) -> bytes:
        """The file's bytes; raises OSError (local) or StorageError (S3)."""
        return self.reader()

    def recorded_fingerprint(self) -> str:
        """What the manifest records: the fingerprint of the bytes read when the storage says
        (an object replaced between the listing and the GET), else the listing's."""
        read = self.read_fingerprint() if self.read_fingerprint is not None else None
        return read if read is not None else self.fingerprint


class Sink(Protocol):
    """An output folder: YAML files, reports and the manifest, written whole and atomically."""

    def prepare(self) -> None:
        """Learn what is already there (one listing for S3); failures surface on the writes."""

    def url(self, name: str) -> str: ...

    def exists(self, name: str) -> bool: ...

    def is_current(self, name: str, text: str) -> bool:
        """Whether `name` already holds exactly `text`, so writing it would change nothing."""

    def read_text(self, name: str) -> str | None:
        """The file's text, None when it is missing or unreadable."""

    def write_text(self, name: str, text: str) -> None:
        """Write atomically; raises StorageError."""

    def delete(self, name: str) -> None:
        """Remove the file (nothing when it is missing); raises StorageError."""

    def is_current_bytes(self, name: str, data: bytes) -> bool:
        """Whether `name` already holds exactly `data` (a code package)."""

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write a binary file (a code package) atomically; raises StorageError."""


@dataclass(frozen=True, slots=True)
class Sources:
    """The sources of a run as the user named them, in the order the paths were given."""

    sources: tuple[Source, ...]
    problems: tuple[Diagnostic, ...]  #: paths that do not exist, listings that failed
    excluded: tuple[str, ...] = ()  #: local files dropped by --exclude patterns


def is_s3_url(text: str) -> bool:
    return text.startswith("s3://")
