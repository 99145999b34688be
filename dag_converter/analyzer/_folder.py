"""Modules of the DAG folder, read (never imported) when a DAG file imports them.

Airflow puts the DAG folder on sys.path (MWAA: /usr/local/airflow/dags), so a DAG file may import
`dag_settings.py` or `common/settings.py` beside it. The analyzer follows such imports by parsing
the module and interpreting its statements like the DAG file's own; anything else a DAG file imports
stays a name (`Symbol`), and calling it is a call into code outside the DAG folder.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import Final, Protocol

import libcst as cst

from dag_converter.analyzer._plugins import LayeredFolder
from dag_converter.analyzer._screen import nesting_problem
from dag_converter.analyzer.positions import StartPositions
from dag_converter.model import FolderRead

# Airflow appends the DAG folder to sys.path: the standard library and installed packages come
# first, so a folder module named like one of them is never the one imported.
_INSTALLED: Final = frozenset(sys.stdlib_module_names) | {
    "airflow", "pendulum", "boto3", "botocore", "dagfactory", "dateutil", "jinja2", "yaml", "tests_common",
}
_MAX_SOURCE: Final = 5 * 1024 * 1024  #: same limit as DAG files (pipeline.DEFAULT_MAX_FILE_SIZE)


@dataclass(frozen=True, slots=True)
class ParsedModule:
    """A folder module's syntax tree and node positions."""

    name: str  #: dotted module name relative to the folder, e.g. "common.settings"
    display: str  #: its path for diagnostics, beside the DAG file's display path
    package: str  #: the package its relative imports start from
    tree: cst.Module | None  #: None when the file cannot be read or parsed
    relative: str = ""  #: its path below the DAG folder root, '/'-separated: its `__file__`
    positions: StartPositions = field(default_factory=lambda: StartPositions(cst.Module(body=())))
    problem: str = ""  #: why `tree` is None


# Parsed modules by (reader type, path, version: real path, mtime and size, or an ETag): a run reads each helper module once, however many
# DAG files import it. Interpretation is redone per DAG file, so no state is shared between files.
_PARSED: dict[tuple[int, str, str], tuple[cst.Module | None, StartPositions, str]] = {}
_PARSED_LIMIT: Final = 512
_NO_POSITIONS: Final = StartPositions(cst.Module(body=()))
#: bytes: a larger file's version is its size, not a digest of its bytes (no read of a huge file
#: ever succeeds: every read of the folder has a lower limit)
_HASHED_LIMIT: Final = 64 * 1024 * 1024
# Digests of local files by (real path, inode, mtime, size): a run hashes a shared helper once.
_DIGESTS: dict[tuple[str, int, int, int], str] = {}


class FolderReader(Protocol):
    """The DAG folder's files, by '/'-separated path below its root: a local folder (LocalFolder)
    or an S3 prefix (storage/s3.py S3Folder). Nothing outside the root is ever read."""

    def kind(self, relative: str) -> str | None:
        """"file", "dir" or None (missing) for a path below the root."""

    def read(self, relative: str, limit: int) -> bytes | str:
        """The bytes of a regular file below the root, or why not (missing, outside, too large)."""

    def version(self, relative: str) -> str:
        """Changes whenever the file may have changed (mtime and size, an ETag): a parse cache key."""

    def digest(self, relative: str, data: bytes | None = None) -> str:
        """The version a conversion records for a path it read or looked for (model.FolderRead):
        a digest of its content (`data` when the file was just read), "dir", "missing", ...; a
        rerun asks again and converts the DAG file again when the answer differs."""


@dataclass(frozen=True)
class LocalFolder:
    """A local DAG folder (symlinks resolved: nothing outside `root` is read).

    A path whose real path is outside the root is still a "file" to kind(), so that the import or
    read naming it is refused by read() with its reason, at its line, rather than taken for a
    module installed elsewhere."""

    root: Path

    @cached_property
    def real_root(self) -> str:
        return os.path.realpath(self.root)

    def kind(self, relative: str) -> str | None:
        target = self.root.joinpath(*relative.split("/")) if relative else self.root
        try:
            mode = target.stat().st_mode
        except (OSError, ValueError):
            return None
        if S_ISREG(mode):
            return "file"
        return "dir" if S_ISDIR(mode) else None

    def read(self, relative: str, limit: int) -> bytes | str:
        return read_below(self.root, relative, limit)

    def version(self, relative: str) -> str:
        try:
            path = self.root.joinpath(*relative.split("/"))
            stat = path.stat()
            return f"{os.path.realpath(path)}:{stat.st_mtime_ns}:{stat.st_size}"
        except (OSError, ValueError):
            return ""

    def digest(self, relative: str, data: bytes | None = None) -> str:
        if data is not None:
            return "sha256:" + hashlib.sha256(data).hexdigest()
        return local_digest(self.real_root, relative)


def local_digest(real_root: str, relative: str) -> str:
    """The version of `relative` below the (resolved) root: "sha256:<hex>" of a regular file's
    bytes, "dir", "missing", "outside" (its real path is not below the root), "special" (a
    FIFO, a device), or "large:<size>" for a file no read would take."""
    try:
        real = os.path.realpath(os.path.join(real_root, *relative.split("/")))
    except (OSError, ValueError):
        return "missing"
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        return "outside"
    try:
        stat = os.stat(real)
    except (OSError, ValueError):
        return "missing"
    if S_ISDIR(stat.st_mode):
        return "dir"
    if not S_ISREG(stat.st_mode):
        return "special"
    if stat.st_size > _HASHED_LIMIT:
        return f"large:{stat.st_size}"
    key = (real, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    known = _DIGESTS.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    try:
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not S_ISREG(os.fstat(handle.fileno()).st_mode):
                return "special"  # swapped for a FIFO since the stat
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return "missing"
    if len(_DIGESTS) >= 4096:
        _DIGESTS.clear()
    found = _DIGESTS[key] = "sha256:" + digest.hexdigest()
    return found


@dataclass
class DagFolder:
    """The folder a DAG file was found in, as sys.path sees it."""

    reader: FolderReader  #: where imports look modules up (the DAG folder, then a plugins archive if any)
    display_root: str  #: the folder as the user spelled it, for diagnostics
    #: where data and template files are read: the DAG folder alone (None: `reader`, when it has no plugins)
    files: FolderReader | None = None
    _found: dict[str, tuple[str, str] | None] = field(default_factory=dict, repr=False)  #: module_file's answers
    _reads: dict[str, str] = field(default_factory=dict, repr=False)  #: path -> version, see reads()

    def reads(self) -> tuple[FolderRead, ...]:
        """Every path this analysis read or looked for below the root, with its version then."""
        return tuple(FolderRead(path, version) for path, version in sorted(self._reads.items()))

    def _note(self, relative: str, data: bytes | str | None = None) -> None:
        """Record a path looked at; the bytes just read, when there are, give its version. A read
        that failed for a passing reason (an I/O or S3 error) is "unreadable", which no later
        answer matches: a rerun tries it again."""
        if isinstance(data, bytes):
            self._reads[relative] = self.reader.digest(relative, data)
        elif isinstance(data, str) and "cannot be read" in data:
            self._reads[relative] = "unreadable"
        elif relative not in self._reads:
            self._reads[relative] = self.reader.digest(relative)

    def module_file(self, name: str) -> tuple[str, str] | None:
        """(relative path, "file" or "dir") of `a/b.py` or `a/b/__init__.py` for module `a.b`; a
        folder alone is a namespace package."""
        if name in self._found:
            return self._found[name]
        found = self._found[name] = self._module_file(name)
        return found

    def _module_file(self, name: str) -> tuple[str, str] | None:
        parts = name.split(".")
        if not name or parts[0] in _INSTALLED or not all(p.isidentifier() for p in parts):
            return None
        if len(parts) > 1:
            parent = self.module_file(".".join(parts[:-1]))
            if parent is None or (parent[1] == "file" and not parent[0].endswith("/__init__.py")):
                return None  # a module that is not a package has no submodules: nothing to look for
        base = "/".join(parts)
        for candidate in (base + ".py", base + "/__init__.py"):
            self._note(candidate)  # found or not: a module that appears later is imported instead
            if self.reader.kind(candidate) == "file":
                return candidate, "file"
        self._note(base)
        return (base, "dir") if self.reader.kind(base) == "dir" else None

    def parse(self, name: str) -> ParsedModule | None:
        found = self.module_file(name)
        if found is None:
            return None
        relative, kind = found
        display = os.path.join(self.display_root, *relative.split("/")) if self.display_root else relative
        if isinstance(self.reader, LayeredFolder) and self.reader.from_plugins(relative):
            display = self.reader.shown(relative)  # a module of the plugins archive, shown inside it
        is_package = kind == "dir" or relative.endswith("/__init__.py")
        package = name if is_package else name.rpartition(".")[0]
        if kind == "dir":
            return ParsedModule(name, display, package, cst.Module(body=()), relative)
        tree, positions, problem = _parse_file(self.reader, relative, self._note)
        return ParsedModule(name, display, package, tree, relative, positions, problem)

    def origin(self, relative: str) -> str:
        """Where a module file was found, for messages: the DAG folder or the plugins archive."""
        if isinstance(self.reader, LayeredFolder) and self.reader.from_plugins(relative):
            return f"the plugins archive {self.reader.plugins.display}"
        return "the DAG folder"

    def shadowed(self, relative: str, limit: int) -> bool:
        """Whether module file `relative` is in both the DAG folder and a plugins archive, with other
        bytes (LayeredFolder.shadowed)."""
        return isinstance(self.reader, LayeredFolder) and self.reader.shadowed(relative, limit)

    def is_namespace(self, name: str) -> bool:
        """Whether module `name` is a folder without `__init__.py`: Python merges such folders with
        same-named ones elsewhere on sys.path, so a submodule missing here may be found there."""
        found = self.module_file(name)
        return found is not None and found[1] == "dir"

    def read_data(self, relative: str, limit: int) -> bytes | str:
        """The bytes of a data or template file below the root (`relative` is '/'-separated, as
        `__file__`-based paths are), or why it cannot be read: missing, outside the root (also
        through a symlink), not a regular file, or larger than `limit` bytes."""
        if not relative or relative.startswith("/") or "\x00" in relative:
            return f"{relative!r} is not a path below the DAG folder"
        normal = posixpath.normpath(relative)
        if normal == ".." or normal.startswith("../"):
            return f"{relative!r} is outside the DAG folder"
        data = (self.files or self.reader).read(normal, limit)
        self._note(normal, data)
        return data


def read_below(root: Path, relative: str, limit: int) -> bytes | str:
    """`relative`'s bytes when it names a regular file inside `root` (symlinks resolved), else why not."""
    if not relative or relative.startswith("/") or "\x00" in relative:
        return f"{relative!r} is not a path below the DAG folder"
    try:
        real_root = root.resolve()
        target = (root / relative).resolve()
    except (OSError, RuntimeError) as exc:
        return f"{relative!r} cannot be resolved ({exc})"
    if target != real_root and real_root not in target.parents:
        return f"{relative!r} is outside the DAG folder"
    try:
        stat = target.stat()
    except OSError:
        return f"{relative!r} does not exist in the DAG folder"
    if not S_ISREG(stat.st_mode):
        return f"{relative!r} is not a regular file"
    if stat.st_size > limit:
        return f"{relative!r} is larger than {limit} bytes"
    try:
        with target.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return f"{relative!r} cannot be read ({exc.strerror or exc})"
    if len(data) > limit:
        return f"{relative!r} is larger than {limit} bytes"
    return data


def _parse_file(reader: FolderReader, relative: str,
                note: "Callable[[str, bytes | str | None], None]") -> tuple[cst.Module | None, StartPositions, str]:
    version = reader.version(relative)
    # The path is part of the key: two links to one file are two modules, each refused by its own name.
    key = (id(type(reader)), relative, version) if version else None
    cached = _PARSED.get(key) if key is not None else None
    if cached is not None:
        return cached
    result: tuple[cst.Module | None, StartPositions, str]
    data = reader.read(relative, _MAX_SOURCE)
    note(relative, data)
    if isinstance(data, str):
        result = (None, _NO_POSITIONS, "file too large to analyse" if "larger than" in data else data)
    else:
        try:
            text = data.decode("utf-8-sig")
            too_complex = nesting_problem(text)
            if too_complex is not None:
                result = (None, _NO_POSITIONS, f"{too_complex[1]} (line {too_complex[0]})")
            else:
                tree = cst.parse_module(text)
                result = (tree, StartPositions(tree), "")
        except UnicodeDecodeError as exc:
            result = (None, _NO_POSITIONS, f"cannot be read ({exc})")
        except cst.ParserSyntaxError as exc:
            result = (None, _NO_POSITIONS, f"syntax error at line {exc.raw_line}")
        except cst.CSTValidationError as exc:
            result = (None, _NO_POSITIONS, f"syntax error: {exc}")
        except RecursionError:
            result = (None, _NO_POSITIONS, "nested too deeply to parse")
    if key is not None:
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[key] = result
    return result


def display_root_of(path: str, package: str) -> str:
    """The DAG folder as the user spelled it: `path` without its package folders and file name."""
    head = path
    for _ in range((package.count(".") + 1 if package else 0) + 1):
        head = os.path.dirname(head)
    return head


__all__ = ["DagFolder", "FolderReader", "LocalFolder", "ParsedModule", "display_root_of", "local_digest", "read_below"]
