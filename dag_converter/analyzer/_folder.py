"""Modules of the DAG folder, read (never imported) when a DAG file imports them.

Airflow puts the DAG folder on sys.path (MWAA: /usr/local/airflow/dags), so a DAG file may import
`dag_settings.py` or `common/settings.py` beside it. The analyzer follows such imports by parsing
the module and interpreting its statements like the DAG file's own; anything else a DAG file imports
stays a name (`Symbol`), and calling it is a call into code outside the DAG folder.
"""

from __future__ import annotations

import os
import posixpath
import sys
from stat import S_ISREG
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

import libcst as cst

from dag_converter.analyzer._screen import nesting_problem
from dag_converter.analyzer.positions import StartPositions

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


# Parsed modules by (reader type, version: real path, mtime and size, or an ETag): a run reads each helper module once, however many
# DAG files import it. Interpretation is redone per DAG file, so no state is shared between files.
_PARSED: dict[tuple[int, str], tuple[cst.Module | None, StartPositions, str]] = {}
_PARSED_LIMIT: Final = 512
_NO_POSITIONS: Final = StartPositions(cst.Module(body=()))


class FolderReader(Protocol):
    """The DAG folder's files, by '/'-separated path below its root: a local folder (LocalFolder)
    or an S3 prefix (storage/s3.py S3Folder). Nothing outside the root is ever read."""

    def kind(self, relative: str) -> str | None:
        """"file", "dir" or None (missing) for a path below the root."""

    def read(self, relative: str, limit: int) -> bytes | str:
        """The bytes of a regular file below the root, or why not (missing, outside, too large)."""

    def version(self, relative: str) -> str:
        """Changes whenever the file may have changed (mtime and size, an ETag): a parse cache key."""


@dataclass(frozen=True)
class LocalFolder:
    """A local DAG folder (symlinks resolved: nothing outside `root` is read)."""

    root: Path

    def kind(self, relative: str) -> str | None:
        target = self.root.joinpath(*relative.split("/")) if relative else self.root
        if target.is_file():
            return "file"
        return "dir" if target.is_dir() else None

    def read(self, relative: str, limit: int) -> bytes | str:
        return read_below(self.root, relative, limit)

    def version(self, relative: str) -> str:
        try:
            path = self.root.joinpath(*relative.split("/"))
            stat = path.stat()
            return f"{os.path.realpath(path)}:{stat.st_mtime_ns}:{stat.st_size}"
        except OSError:
            return ""


@dataclass
class DagFolder:
    """The folder a DAG file was found in, as sys.path sees it."""

    reader: FolderReader
    display_root: str  #: the folder as the user spelled it, for diagnostics
    _found: dict[str, tuple[str, str] | None] = field(default_factory=dict, repr=False)  #: module_file's answers

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
        base = "/".join(parts)
        for candidate in (base + ".py", base + "/__init__.py"):
            if self.reader.kind(candidate) == "file":
                return candidate, "file"
        return (base, "dir") if self.reader.kind(base) == "dir" else None

    def parse(self, name: str) -> ParsedModule | None:
        found = self.module_file(name)
        if found is None:
            return None
        relative, kind = found
        display = os.path.join(self.display_root, *relative.split("/")) if self.display_root else relative
        is_package = kind == "dir" or relative.endswith("/__init__.py")
        package = name if is_package else name.rpartition(".")[0]
        if kind == "dir":
            return ParsedModule(name, display, package, cst.Module(body=()), relative)
        tree, positions, problem = _parse_file(self.reader, relative)
        return ParsedModule(name, display, package, tree, relative, positions, problem)

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
        return self.reader.read(normal, limit)


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


def _parse_file(reader: FolderReader, relative: str) -> tuple[cst.Module | None, StartPositions, str]:
    version = reader.version(relative)
    key = (id(type(reader)), version) if version else None
    cached = _PARSED.get(key) if key is not None else None
    if cached is not None:
        return cached
    result: tuple[cst.Module | None, StartPositions, str]
    data = reader.read(relative, _MAX_SOURCE)
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


__all__ = ["DagFolder", "FolderReader", "LocalFolder", "ParsedModule", "display_root_of", "read_below"]
