"""Where DAG files come from and YAML goes to (local paths here; s3:// in sources_s3)."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dag_converter import codes
from dag_converter.model import Diagnostic, Span


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A Python file to convert."""

    display: str  #: the path as the user gave it (joined with the folder walk), for messages
    relative: str  #: path relative to the input root, '/'-separated: names the YAML's source
    path: Path

    @property
    def root(self) -> Path:
        """The DAG folder `relative` starts from (what Airflow puts on sys.path)."""
        return self.path.parents[self.relative.count("/")]

    def read_bytes(self) -> bytes:
        """The file's bytes. Only a regular file is read: a file swapped for a FIFO or a device
        after discovery would block the run or never end, so it fails like a vanished file."""
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, "not a regular file", str(self.path))
            return handle.read()

    def size(self) -> int:
        return self.path.stat().st_size


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


def discover_local(paths: Sequence[str]) -> tuple[list[SourceFile], list[Diagnostic]]:
    """The Python files under the given files and folders, in a stable order."""
    found: list[SourceFile] = []
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
                found.append(SourceFile(given, root.name, root))
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
            found.append(SourceFile(display, relative, path))
            count += 1
        if count == 0:
            problems.append(codes.make(codes.NO_INPUT, Span(given), detail=f"no Python files in folder {given}"))
    return found, problems


__all__ = ["IgnoreRules", "SourceFile", "discover_local", "is_ignored", "is_skipped_folder", "parse_airflowignore"]
