"""Reading files of the DAG folder for a package: only inside the root, never through a link out of it.

The root is a local folder, or any DAG folder reader (storage.base.FolderFiles: an s3:// prefix's
S3Folder), which answers by '/'-separated path below its root and reads nothing outside it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Final

from dag_converter.analyzer import LayeredFolder

if TYPE_CHECKING:
    from dag_converter.storage.base import FolderFiles

DEFAULT_MAX_FILE_SIZE: Final = 5 * 1024 * 1024  #: per file, as for DAG files (pipeline.DEFAULT_MAX_FILE_SIZE)
#: while a package is built under recording_reads(): each path a FolderRoot looked at, with the bytes it read
_LOOKED_AT: ContextVar["dict[str, bytes | None] | None"] = ContextVar("package_reads", default=None)


@contextmanager
def recording_reads() -> Iterator[dict[str, bytes | None]]:
    """The paths below the root (and the bytes read, None for a file not read) that the
    packages built inside the block looked at: a rerun builds the package again when one changes."""
    looked_at: dict[str, bytes | None] = {}
    token = _LOOKED_AT.set(looked_at)
    try:
        yield looked_at
    finally:
        _LOOKED_AT.reset(token)


def _look(clean: str, data: bytes | None = None) -> None:
    looked_at = _LOOKED_AT.get()
    if looked_at is not None and (data is not None or clean not in looked_at):
        looked_at[clean] = data


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A file's bytes, or why it cannot be read."""

    data: bytes | None
    problem: str = ""


@dataclass
class FolderRoot:
    """The DAG folder a package is built from; files are named by their POSIX path relative to it.

    With a plugins archive behind the folder (analyzer.LayeredFolder), a path the archive holds is
    read from it; every other path is answered by the DAG folder alone, as without the archive."""

    root: "Path | FolderFiles"
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    _real: Path = field(init=False, repr=False)
    _cache: dict[str, ReadResult] = field(default_factory=dict, repr=False)
    _base: "FolderRoot | None" = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._real = Path(os.path.realpath(self.root)) if isinstance(self.root, Path) else Path()
        if isinstance(self.root, LayeredFolder) and self.root.local is not None:
            self._base = FolderRoot(self.root.local, self.max_file_size)

    def from_plugins(self, relative: str) -> bool:
        """Whether `relative` is read from the plugins archive, not the DAG folder."""
        return isinstance(self.root, LayeredFolder) and self.root.from_plugins(relative)

    def shadowed(self, relative: str) -> bool:
        """Whether a module file is in both the DAG folder and the plugins archive, with other code."""
        return isinstance(self.root, LayeredFolder) and self.root.shadowed(relative, self.max_file_size)

    def _local_base(self, clean: str) -> "FolderRoot | None":
        """The local DAG folder's root when it answers for `clean` (links refused as without plugins)."""
        return self._base if self._base is not None and not self.from_plugins(clean) else None

    @property
    def local(self) -> Path | None:
        """The local folder, or None when the root is a folder reader (an S3 prefix)."""
        return self.root if isinstance(self.root, Path) else None

    def normalize(self, relative: str) -> str | None:
        """`relative` as a clean POSIX path inside the root, or None when it leaves it (`..`, absolute)."""
        if not relative or "\x00" in relative or "\\" in relative:
            return None
        pure = PurePosixPath(relative)
        if pure.is_absolute():
            return None
        parts: list[str] = []
        for part in pure.parts:
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            elif part != ".":
                parts.append(part)
        return "/".join(parts) or None

    def is_file(self, relative: str) -> bool:
        return self.read(relative).data is not None

    def exists(self, relative: str) -> bool:
        """True when something (a file, a folder or a link, followed or not) has this name in the root."""
        clean = self.normalize(relative)
        if clean is None:
            return False
        _look(clean)
        base = self._local_base(clean)
        if base is not None:
            return base.exists(clean)
        if not isinstance(self.root, Path):
            return self.root.kind(clean) is not None
        try:
            os.lstat(self._real.joinpath(*clean.split("/")))
        except OSError:
            return False
        return True

    def is_dir(self, relative: str) -> bool:
        clean = self.normalize(relative)
        if clean is None:
            return False
        _look(clean)
        base = self._local_base(clean)
        if base is not None:
            return base.is_dir(clean)
        if not isinstance(self.root, Path):
            return self.root.kind(clean) == "dir"
        path = self._real.joinpath(*clean.split("/"))
        try:
            # Every component must be a real directory: a link, even one pointing inside, is not followed.
            for depth in range(1, len(clean.split("/")) + 1):
                part = self._real.joinpath(*clean.split("/")[:depth])
                if stat.S_ISLNK(os.lstat(part).st_mode):
                    return False
            return path.is_dir()
        except OSError:
            return False

    def read(self, relative: str) -> ReadResult:
        """The bytes of a regular file inside the root; links are refused, whatever they point to."""
        clean = self.normalize(relative)
        if clean is None:
            return ReadResult(None, "the path leaves the DAG folder")
        found = self._cache.get(clean)
        if found is None:
            found = self._cache[clean] = self._read(clean)
        _look(clean, found.data)
        return found

    def _read(self, clean: str) -> ReadResult:
        base = self._local_base(clean)
        if base is not None:
            return base.read(clean)
        if not isinstance(self.root, Path):
            if self.root.kind(clean) != "file":
                return ReadResult(None, "no such file in the DAG folder")
            found = self.root.read(clean, self.max_file_size)
            return ReadResult(found) if isinstance(found, bytes) else ReadResult(None, found)
        parts = clean.split("/")
        try:
            for depth in range(1, len(parts) + 1):
                mode = os.lstat(self._real.joinpath(*parts[:depth])).st_mode
                if stat.S_ISLNK(mode):
                    return ReadResult(None, "it is a symbolic link, which the converter does not follow")
            if not stat.S_ISREG(mode):
                return ReadResult(None, "it is not a regular file")
            path = self._real.joinpath(*parts)
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(path, flags)
            with os.fdopen(fd, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > self.max_file_size:
                    return ReadResult(None, f"it is {size} bytes, over the {self.max_file_size}-byte limit")
                data = handle.read(self.max_file_size + 1)
            if len(data) > self.max_file_size:
                return ReadResult(None, f"it is over the {self.max_file_size}-byte limit")
            return ReadResult(data)
        except FileNotFoundError:
            return ReadResult(None, "no such file in the DAG folder")
        except OSError as exc:
            return ReadResult(None, f"cannot read it ({exc.strerror or type(exc).__name__})")
