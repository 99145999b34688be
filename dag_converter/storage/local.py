"""Local folders: the DAG-folder walk (.airflowignore honoured), local sources, LocalSink and
atomic file writes."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from dag_converter import codes
from dag_converter.config import is_excluded
from dag_converter.model import Diagnostic, Span
from dag_converter.storage.base import Source, StorageError


def read_regular_file(path: Path) -> bytes:
    """The file's bytes. Only a regular file is read: a file swapped for a FIFO or a device
    after discovery would block the run or never end, so it fails like a vanished file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return handle.read()


def parse_airflowignore(text: str) -> list[re.Pattern[str]]:
    """Regex lines of an .airflowignore (Airflow 2's default syntax, what MWAA folders use).

    Shared by the local walk and the S3 listing, so both skip exactly the same files."""
    patterns = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            patterns.append(re.compile(line))
        except re.error:
            continue  # Airflow skips invalid patterns the same way
    return patterns


#: (folder relative to the input root, '' for the root itself; a pattern of that folder's .airflowignore)
IgnoreRules = list[tuple[str, re.Pattern[str]]]


def is_ignored(relative: str, rules: IgnoreRules) -> bool:
    """Whether a file or folder (relative to the input root, '/'-separated) matches a rule of its
    own folder or of a folder above it; each pattern sees the path relative to its .airflowignore."""
    for base, pattern in rules:
        if not base:
            below = relative
        elif relative.startswith(base + "/"):
            below = relative[len(base) + 1:]
        else:
            continue
        if pattern.search(below):
            return True
    return False


def is_skipped_folder(name: str) -> bool:
    """Folders never searched: hidden ones and Python caches."""
    return name.startswith(".") or name == "__pycache__"


def _ignore_patterns(folder: Path) -> list[re.Pattern[str]]:
    try:
        text = (folder / ".airflowignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return parse_airflowignore(text)


def _walk(root: Path) -> Iterator[Path]:
    """Every *.py file below root, sorted, following symlinks once (a symlink loop is not followed twice)."""
    seen: set[str] = set()
    stack: list[tuple[Path, IgnoreRules]] = [(root, [])]
    while stack:
        folder, inherited = stack.pop()
        try:
            real = os.path.realpath(folder)
        except OSError:
            continue
        if real in seen:
            continue
        seen.add(real)
        base = folder.relative_to(root).as_posix()
        base = "" if base == "." else base
        rules = inherited + [(base, p) for p in _ignore_patterns(folder)]
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            if is_ignored(f"{base}/{entry.name}" if base else entry.name, rules):
                continue
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                continue
            if is_dir:
                if is_skipped_folder(entry.name):
                    continue
                subfolders.append((path, rules))
            elif is_file and entry.name.endswith(".py"):
                yield path
        stack.extend(reversed(subfolders))


def _discover(paths: Sequence[str]) -> tuple[list[tuple[str, str, Path]], list[Diagnostic]]:
    """(display, relative, path) of the Python files under the given files and folders, in a stable order."""
    found: list[tuple[str, str, Path]] = []
    problems: list[Diagnostic] = []
    seen: set[Path] = set()
    for given in paths:
        root = Path(given)
        if root.exists() and not root.is_file() and not root.is_dir():
            problems.append(codes.make(codes.NO_INPUT, Span(given), detail=f"not a regular file or folder: {given}"))
            continue
        if root.is_file():
            resolved = root.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append((given, root.name, root))
            continue
        if not root.is_dir():
            problems.append(codes.make(codes.NO_INPUT, Span(given), detail=f"no such file or folder: {given}"))
            continue
        count = 0
        for path in _walk(root):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            relative = path.relative_to(root).as_posix()
            display = os.path.join(given, *relative.split("/"))
            found.append((display, relative, path))
            count += 1
        if count == 0:
            problems.append(codes.make(codes.NO_INPUT, Span(given), detail=f"no Python files in folder {given}"))
    return found, problems


def open_local(paths: Sequence[str], *, excludes: Sequence[str] = (),
               base: Path | None = None) -> tuple[list[Source], list[Diagnostic], tuple[str, ...]]:
    """The sources under local files and folders: (sources, problems, displays of excluded files).
    A file named by the user is `explicit`; `excludes` are globs relative to `base`."""
    files, problems = _discover(paths)
    excluded: list[str] = []
    if excludes:
        where = base or Path.cwd()
        excluded = [display for display, _, path in files if is_excluded(path, excludes, where)]
        dropped = set(excluded)
        files = [file for file in files if file[0] not in dropped]
    named = set(paths)
    trees: dict[Path, str] = {}
    sources = []
    for display, relative, path in files:
        root = path.parents[relative.count("/")]  # the DAG folder (what Airflow puts on sys.path)
        if root not in trees:
            trees[root] = _tree_fingerprint(root)
        try:
            st = path.stat()
            # The folder's digest is part of each file's: a DAG may import a module beside it,
            # so any change to the folder's Python files converts its DAGs again (unchanged
            # YAML is still not rewritten).
            fingerprint, size = f"size={st.st_size};mtime_ns={st.st_mtime_ns};folder={trees[root]}", st.st_size
        except OSError:
            fingerprint, size = "", None  # never matches: the read reports the error
        sources.append(Source(display, relative, fingerprint, size, _reader(path), display in named, root))
    return sources, problems, tuple(excluded)


def local_source(path: Path, display: str, relative: str, *, explicit: bool = True) -> Source:
    """One local file as a Source, without a walk or a fingerprint (never skipped by a manifest)."""
    return Source(display, relative, "", None, _reader(path), explicit, path.parents[relative.count("/")])


def _reader(path: Path) -> Callable[[], bytes]:
    return lambda: read_regular_file(path)


def _tree_fingerprint(root: Path) -> str:
    """A digest of the size and mtime of every Python file below root, .airflowignore'd ones too
    (helper modules often live in ignored folders)."""
    digest = hashlib.sha256()
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not is_skipped_folder(d))
        for name in sorted(n for n in names if n.endswith(".py")):
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            digest.update(f"{os.path.relpath(path, root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (or bytes, as they are) to `path` through a temporary file in the same folder
    and a rename, so a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if isinstance(text, bytes)
              else os.fdopen(fd, "w", encoding="utf-8", newline="\n")) as handle:
            handle.write(text)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class LocalSink:
    """A local output folder; files are compared by text and written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __str__(self) -> str:
        return str(self.folder)

    def prepare(self) -> None:
        return None

    def url(self, name: str) -> str:
        return str(self.folder / name)

    def exists(self, name: str) -> bool:
        return (self.folder / name).is_file()

    def is_current(self, name: str, text: str) -> bool:
        return self.read_text(name) == text

    def read_text(self, name: str) -> str | None:
        try:
            # Universal newlines, as everything that compares with what the converter writes.
            return (self.folder / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def write_text(self, name: str, text: str) -> None:
        try:
            write_atomic(self.folder / name, text)
        except OSError as exc:
            raise StorageError(exc.strerror or str(exc)) from exc

    def is_current_bytes(self, name: str, data: bytes) -> bool:
        try:
            return (self.folder / name).read_bytes() == data
        except OSError:
            return False

    def write_bytes(self, name: str, data: bytes) -> None:
        """A binary file (a code package), written atomically; raises StorageError."""
        self.write_text(name, data)  # type: ignore[arg-type]  # write_atomic writes bytes as they are


__all__ = ["IgnoreRules", "LocalSink", "is_ignored", "is_skipped_folder", "local_source", "open_local",
           "parse_airflowignore", "read_regular_file", "write_atomic"]
