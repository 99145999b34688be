"""Local folders: the DAG-folder walk (.airflowignore honoured), local sources, LocalSink and
atomic file writes."""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Final

from dag_converter import codes
from dag_converter.config import is_excluded
from dag_converter.model import Diagnostic, Span
from dag_converter.storage.base import MAX_READ_BACK, Source, StorageError
from dag_converter.storage.ignore import (DEFAULT_SYNTAX, MAX_IGNORE_FILE, IgnoreRules, IgnoreSyntax, is_ignored,
                                          parse_airflowignore)


def read_regular_file(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes. Only a regular file is read: a file swapped for a FIFO or a device
    after discovery would block the run or never end, so it fails like a vanished file. With
    `limit`, a larger file is an error (EFBIG) and never read whole."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if limit is None:
            return handle.read()
        data = handle.read(limit + 1)
        if len(data) > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return data


def is_skipped_folder(name: str) -> bool:
    """Folders never searched: hidden ones and Python caches."""
    return name.startswith(".") or name == "__pycache__"


def printable_name(name: str) -> str:
    """A file name as text that can be written anywhere: bytes that are not UTF-8 (a latin-1
    name on a Linux disk arrives as lone surrogates) shown as `\\xe9`."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_ignore_file(read: Callable[[], bytes], where: str, base: str, syntax: IgnoreSyntax,
                     problems: list[Diagnostic]) -> IgnoreRules:
    """The rules of one .airflowignore, each skipped line reported as a warning in `problems`."""
    try:
        data = read()
    except OSError:
        return []
    text = data[:MAX_IGNORE_FILE].decode("utf-8", errors="replace")

    def warn(path: str, number: int, line: str, why: str) -> None:
        shown = line if len(line) <= 80 else line[:77] + "..."
        problems.append(codes.make(codes.IGNORE_LINE_SKIPPED, Span(path, number, 1), line=shown, detail=why))

    return parse_airflowignore(text, base, syntax, where=where, warn=warn)


def _walk(root: Path, display_root: str, syntax: IgnoreSyntax,
          problems: list[Diagnostic]) -> Iterator[tuple[str, Path]]:
    """(relative, path) of every *.py file below root, sorted, following symlinks once (a symlink
    loop is not followed twice); .airflowignore files apply as Airflow applies them."""
    seen: set[str] = set()
    root_real = os.path.realpath(root)
    stack: list[tuple[Path, str, IgnoreRules]] = [(root, "", [])]
    while stack:
        folder, base, inherited = stack.pop()
        try:
            real = os.path.realpath(folder)
        except OSError:
            continue
        if real in seen:
            continue
        seen.add(real)
        ignore_file = folder / ".airflowignore"
        where = os.path.join(display_root, *base.split("/"), ".airflowignore") if base else \
            os.path.join(display_root, ".airflowignore")
        if os.path.islink(ignore_file) and not is_within(os.path.realpath(ignore_file), root_real):
            # Nothing outside the folder the user gave is read, not even its ignore rules.
            problems.append(codes.make(codes.UNREADABLE_FILE, Span(where),
                                       detail="a symlink to a file outside the DAG folder (not followed)"))
            rules = inherited
        else:
            rules = inherited + read_ignore_file(lambda: read_regular_file(ignore_file, MAX_IGNORE_FILE), where,
                                                 base, syntax, problems)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            name = printable_name(entry.name)
            relative = f"{base}/{name}" if base else name
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                continue
            if is_dir:
                if is_skipped_folder(entry.name) or is_ignored(relative, rules, is_folder=True, syntax=syntax):
                    continue
                if entry.is_symlink() and not is_within(os.path.realpath(path), root_real):
                    # Nothing outside the folder the user gave is read (docs/robustness.md).
                    shown = os.path.join(display_root, *relative.split("/"))
                    problems.append(codes.make(codes.UNREADABLE_FILE, Span(shown),
                                               detail="a symlink to a folder outside the DAG folder (not followed)"))
                    continue
                subfolders.append((path, relative, rules))
            elif is_file and entry.name.endswith(".py") and not is_ignored(relative, rules, syntax=syntax):
                yield relative, path
        stack.extend(reversed(subfolders))


def _discover(paths: Sequence[str],
              syntax: IgnoreSyntax = DEFAULT_SYNTAX) -> tuple[list[tuple[str, str, Path]], list[Diagnostic]]:
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
        for relative, path in _walk(root, given, syntax, problems):
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            display = os.path.join(given, *relative.split("/"))
            found.append((display, relative, path))
            count += 1
        if count == 0:
            problems.append(codes.make(codes.NO_INPUT, Span(given), detail=f"no Python files in folder {given}"))
    return found, problems


def open_local(paths: Sequence[str], *, excludes: Sequence[str] = (), base: Path | None = None,
               ignore_syntax: IgnoreSyntax = DEFAULT_SYNTAX) -> tuple[list[Source], list[Diagnostic], tuple[str, ...]]:
    """The sources under local files and folders: (sources, problems, displays of excluded files).
    A file named by the user is `explicit`; `excludes` are globs relative to `base`; .airflowignore
    lines are read in `ignore_syntax`."""
    files, problems = _discover(paths, ignore_syntax)
    excluded: list[str] = []
    if excludes:
        where = base or Path.cwd()
        excluded = [display for display, _, path in files if is_excluded(path, excludes, where)]
        dropped = set(excluded)
        files = [file for file in files if file[0] not in dropped]
    named = set(paths)
    sources = []
    for display, relative, path in files:
        root = path.parents[relative.count("/")]  # the DAG folder (what Airflow puts on sys.path)
        try:
            st = path.stat()
            # The file's own fingerprint and its path below its DAG folder (named alone, its folder
            # is another one: its YAML names another source path). The other files of the folder
            # its conversion read (helper modules, data and template files) are in its manifest
            # entry, each with its version: a change to one converts it again (batch/manifest.py).
            fingerprint, size = f"size={st.st_size};mtime_ns={st.st_mtime_ns};path={relative}", st.st_size
        except OSError:
            fingerprint, size = "", None  # never matches: the read reports the error
        if path.is_symlink() and display not in named and not is_within(os.path.realpath(path), os.path.realpath(root)):
            sources.append(Source(display, relative, "", None, _outside_root, False, root))
            continue
        if printable_name(str(path)) != str(path):
            # The name holds bytes that are not UTF-8: no report, manifest or YAML header could
            # name it faithfully, so it is refused (one line) rather than taking the run down.
            sources.append(Source(display, relative, "", None, _unnamable, display in named, root))
            continue
        sources.append(Source(display, relative, fingerprint, size, _reader(path), display in named, root))
    return sources, problems, tuple(excluded)


def local_source(path: Path, display: str, relative: str, *, explicit: bool = True) -> Source:
    """One local file as a Source, without a walk or a fingerprint (never skipped by a manifest)."""
    return Source(display, relative, "", None, _reader(path), explicit, path.parents[relative.count("/")])


def is_within(real: str, root_real: str) -> bool:
    """Whether a resolved path is the resolved root or below it."""
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def _outside_root() -> bytes:
    raise OSError(errno.EACCES, "a symlink to a file outside the DAG folder (not followed)")


def _unnamable() -> bytes:
    raise OSError(errno.EILSEQ, "the file name is not valid UTF-8: rename the file")


def _reader(path: Path) -> Callable[[], bytes]:
    return lambda: read_regular_file(path)


#: Temporary files are named `.dag-converter-<pid>-<8 hex>.tmp`: short whatever the target's name
#: (a 250-character dag_id still fits the 255-byte file-name limit), and the pid tells a later
#: run whether the writer is gone.
_TEMP_NAME: Final = re.compile(r"\.dag-converter-([0-9]{1,10})-[0-9a-f]{8}\.tmp")
_STALE_AFTER: Final = 24 * 3600  #: seconds; a temporary file this old is stale even if its pid was reused


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` to `path` through a temporary file in the same folder and a rename, so a
    reader sees the old file or the new one, never half of one. A new file gets the mode the
    umask gives (0644 under 022); a rewritten one keeps its mode. What is not a regular file
    (a FIFO, a device, a folder) is never replaced. Text that cannot be UTF-8 (a lone
    surrogate in a message) is written with backslash escapes, never a crash. Bytes (a code
    package) are written as they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        existing = None
    if existing is not None and not (stat.S_ISREG(existing.st_mode) or stat.S_ISLNK(existing.st_mode)):
        raise OSError(errno.EEXIST, "not a regular file", str(path))
    data = text if isinstance(text, bytes) else text.encode("utf-8", "backslashreplace")
    while True:
        tmp = path.parent / f".dag-converter-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            break
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            if existing is not None and stat.S_ISREG(existing.st_mode):
                os.fchmod(handle.fileno(), stat.S_IMODE(existing.st_mode))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files a killed run left in `folder`: ours by name, whose writer
    process is gone (or that are a day old). Another live run's files are left alone."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        found = _TEMP_NAME.fullmatch(entry.name)
        if found is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            if _process_alive(int(found.group(1))) and now - st.st_mtime < _STALE_AFTER:
                continue
            os.unlink(entry.path)
        except OSError:
            continue


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this run's writes happen after prepare(): what is there is from before
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, OSError):
        return True  # someone else's process: leave its file
    return True


class LocalSink:
    """A local output folder; files are compared by text and written atomically. Only regular
    files are read back, each up to MAX_READ_BACK bytes (a FIFO or a huge file is 'missing')."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __str__(self) -> str:
        return str(self.folder)

    def prepare(self) -> None:
        remove_stale_temporaries(self.folder)

    def url(self, name: str) -> str:
        return str(self.folder / name)

    def exists(self, name: str) -> bool:
        try:
            return (self.folder / name).is_file()
        except OSError:  # a name the file system cannot hold (too long, say) is not there
            return False

    def is_current(self, name: str, text: str) -> bool:
        return self.read_text(name) == text

    def read_text(self, name: str) -> str | None:
        try:
            data = read_regular_file(self.folder / name, MAX_READ_BACK)
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        # Universal newlines, as everything that compares with what the converter writes.
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def write_text(self, name: str, text: str) -> None:
        try:
            write_atomic(self.folder / name, text)
        except OSError as exc:
            raise StorageError(exc.strerror or str(exc)) from exc

    def delete(self, name: str) -> None:
        try:
            (self.folder / name).unlink(missing_ok=True)
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



__all__ = ["IgnoreRules", "IgnoreSyntax", "LocalSink", "is_ignored", "is_skipped_folder", "is_within", "local_source",
           "open_local", "parse_airflowignore", "printable_name", "read_ignore_file", "read_regular_file",
           "remove_stale_temporaries", "write_atomic"]
