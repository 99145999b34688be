"""The plugins archive (MWAA's plugins.zip): a second, read-only module root behind the DAG folder.

MWAA unpacks plugins.zip into $AIRFLOW_HOME/plugins, which Airflow puts on sys.path, so a DAG file
may import `my_company.operators` from it. `PluginsArchive` answers like a DAG folder reader
(FolderReader) from the archive's bytes, without extracting or importing anything: an archive that
is not a zip, has too many entries, declares too much uncompressed data or an entry compressed
beyond any source file's ratio, or names an entry outside its root or a symbolic link is refused
whole (PluginsUnusable). `LayeredFolder` puts it behind the DAG folder: a module is looked up in the
DAG folder first, then in the archive (the DAG folder comes before the plugins folder on Airflow 2's
sys.path; Airflow 3 appends its DAG bundle after the plugins folder: a module in both is then the
plugins' one, see docs/code-packages.md).
"""

from __future__ import annotations

import hashlib
import io
import stat
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from dag_converter.errors import UsageError

if TYPE_CHECKING:
    from dag_converter.analyzer._folder import FolderReader

MAX_ARCHIVE_BYTES: Final = 512 * 1024 * 1024  #: the archive itself (held in memory while it is checked)
MAX_ENTRIES: Final = 10_000
MAX_UNCOMPRESSED: Final = 1024 * 1024 * 1024  #: bytes, the sum of the entries' declared sizes
#: an entry larger than MIN_RATIO_SIZE bytes compressed more than MAX_RATIO times is a zip bomb, not code
MAX_RATIO: Final = 100
MIN_RATIO_SIZE: Final = 1024 * 1024
#: bytes: members larger than this are never read (no read of the DAG folder asks for more); the
#: archive keeps the others only, so wheels and data files it carries cost no memory in worker processes
DEFAULT_MAX_MEMBER: Final = 5 * 1024 * 1024


class PluginsUnusable(UsageError):
    """The plugins archive cannot be used: unreadable, not a zip, or hostile. str() is one line."""


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str  #: the member's name in the zip
    size: int  #: declared uncompressed size
    problem: str = ""  #: why it cannot be read, found when the archive was slimmed (a bad checksum)


@dataclass(eq=False)
class PluginsArchive:
    """A validated plugins.zip held in memory; a FolderReader over its members ('/'-separated paths)."""

    display: str  #: as the user named it (a path or an s3:// URL), for diagnostics and the manifest
    data: bytes = field(repr=False)
    sha256: str = ""
    files: dict[str, _Entry] = field(default_factory=dict, repr=False)
    dirs: frozenset[str] = frozenset()
    max_member: int = DEFAULT_MAX_MEMBER  #: larger members are listed, never read ("large:<size>")
    _zip: zipfile.ZipFile | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _digests: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_bytes(cls, data: bytes, display: str, max_member: int = DEFAULT_MAX_MEMBER) -> "PluginsArchive":
        """The archive, checked whole; raises PluginsUnusable naming the first problem. Members
        over `max_member` bytes (wheels, data) are listed but not kept."""
        def refuse(reason: str) -> PluginsUnusable:
            return PluginsUnusable(f"plugins archive {display}: {reason}; nothing was converted")

        if len(data) > MAX_ARCHIVE_BYTES:
            raise refuse(f"it is {len(data)} bytes, over the {MAX_ARCHIVE_BYTES}-byte limit")
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            infos = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, RuntimeError) as exc:
            raise refuse(f"not a readable zip archive ({' '.join(str(exc).split()) or type(exc).__name__})") from None
        if len(infos) > MAX_ENTRIES:
            raise refuse(f"it has {len(infos)} entries, over the limit of {MAX_ENTRIES}")
        files: dict[str, _Entry] = {}
        dirs: set[str] = set()
        total = 0
        for info in infos:
            name = info.filename
            clean = _clean(name)
            if clean is None:
                raise refuse(f"entry {name!r} names a path outside the archive's root")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise refuse(f"entry {name!r} is a symbolic link, which the converter does not follow")
            if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise refuse(f"entry {name!r} is not a regular file")
            total += info.file_size
            if total > MAX_UNCOMPRESSED:
                raise refuse(f"its entries declare over {MAX_UNCOMPRESSED} bytes uncompressed")
            if info.file_size > MIN_RATIO_SIZE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise refuse(f"entry {name!r} expands {info.file_size // max(info.compress_size, 1)} times "
                             f"(over {MAX_RATIO}: a zip bomb, not source code)")
            parts = clean.split("/")
            dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
            if info.is_dir():
                dirs.add(clean)
                continue
            if clean in files:
                raise refuse(f"entry {clean!r} appears twice")
            files[clean] = _Entry(name, info.file_size)
        clash = sorted(set(files) & dirs)
        if clash:
            raise refuse(f"{clash[0]!r} is both a file and a folder")
        digest = hashlib.sha256(data).hexdigest()
        large = [entry for entry in files.values() if entry.size > max_member]
        if large:
            data, archive = _without(archive, files, max_member)
        return cls(display, data, digest, files, frozenset(dirs), max_member, archive)

    def __getstate__(self) -> dict[str, object]:
        # Worker processes get the bytes and the checked listing; each opens the zip again.
        return {"display": self.display, "data": self.data, "sha256": self.sha256, "files": self.files,
                "dirs": self.dirs, "max_member": self.max_member}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._zip = None
        self._lock = threading.Lock()
        self._digests = {}

    # -- FolderReader ----------------------------------------------------------------------------

    def kind(self, relative: str) -> str | None:
        if relative in self.files:
            return "file"
        return "dir" if relative in self.dirs or relative == "" else None

    def read(self, relative: str, limit: int) -> bytes | str:
        entry = self.files.get(relative)
        shown = f"{relative!r} in {self.display}"
        if entry is None:
            return f"{shown} does not exist" if relative not in self.dirs else f"{shown} is not a regular file"
        if entry.problem:
            return f"{shown} {entry.problem}"
        if entry.size > min(limit, self.max_member):
            return f"{shown} is larger than {min(limit, self.max_member)} bytes"
        try:
            with self._lock:
                if self._zip is None:
                    self._zip = zipfile.ZipFile(io.BytesIO(self.data))
                with self._zip.open(entry.name) as handle:
                    data = handle.read(limit + 1)  # never more, whatever the header declares
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, ValueError, OSError, EOFError) as exc:
            return f"{shown} cannot be read ({' '.join(str(exc).split()) or type(exc).__name__})"
        if len(data) > limit:
            return f"{shown} is larger than {limit} bytes"
        return data

    def version(self, relative: str) -> str:
        return f"zip:{self.sha256}:{relative}"

    def digest(self, relative: str, data: bytes | None = None) -> str:
        """"sha256:<hex>" of a member's bytes, "dir", "missing", "large:<size>" or "unreadable"."""
        if data is not None:
            return "sha256:" + hashlib.sha256(data).hexdigest()
        kind = self.kind(relative)
        if kind != "file":
            return "dir" if kind == "dir" else "missing"
        known = self._digests.get(relative)
        if known is None:
            entry = self.files[relative]
            if entry.size > self.max_member:
                known = f"large:{entry.size}"
            else:
                read = self.read(relative, self.max_member)
                known = "sha256:" + hashlib.sha256(read).hexdigest() if isinstance(read, bytes) else "unreadable"
            self._digests[relative] = known
        return known


def _without(archive: zipfile.ZipFile, files: dict[str, _Entry], max_member: int) -> tuple[bytes, zipfile.ZipFile]:
    """A copy of the archive holding only the members of at most `max_member` bytes (the zip is
    rewritten once; the original bytes are dropped). A member that cannot be read keeps its
    problem in `files`, to be reported when a DAG needs it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as slim:
        for path, entry in files.items():
            if entry.size > max_member:
                continue
            try:
                with archive.open(entry.name) as handle:
                    content = handle.read(max_member + 1)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, ValueError, OSError,
                    EOFError) as exc:
                files[path] = _Entry(entry.name, entry.size, f"cannot be read ({' '.join(str(exc).split()) or type(exc).__name__})")
                continue
            if len(content) > max_member:
                files[path] = _Entry(entry.name, entry.size, f"holds more than the {entry.size} bytes it declares")
                continue
            slim.writestr(entry.name, content)
    data = buffer.getvalue()
    return data, zipfile.ZipFile(io.BytesIO(data))


def _clean(name: str) -> str | None:
    """A member name as a clean path below the archive's root, None when it leaves it."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return None
    parts = [p for p in name.rstrip("/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts) or ":" in parts[0]:
        return None
    return "/".join(parts)


PLUGINS_PREFIX: Final = "plugins:"  #: on the versions of the paths read from the archive


class _NoFolder:
    """The files of a DAG folder that is not known: none (a FolderReader)."""

    def kind(self, relative: str) -> str | None:
        return None

    def read(self, relative: str, limit: int) -> bytes | str:
        return f"{relative!r}: no DAG folder is known to read it from"

    def version(self, relative: str) -> str:
        return ""

    def digest(self, relative: str, data: bytes | None = None) -> str:
        return "missing"


@dataclass(eq=False)
class LayeredFolder:
    """The DAG folder with the plugins archive behind it, as one FolderReader.

    A path belongs to one layer: below a regular package (a folder with __init__.py) to the first
    layer holding that package, as Python finds a package in the first sys.path entry that has it;
    otherwise (a top-level module, or namespace folders) to the first layer that has the path."""

    base: "FolderReader | None"  #: the DAG folder's reader (None: a DAG file without a folder)
    plugins: PluginsArchive
    local: Path | None = None  #: the DAG folder when it is local (code packages refuse links in it)
    _owners: dict[str, str | None] = field(default_factory=dict, repr=False)

    def _layers(self) -> list[tuple[str, "FolderReader"]]:
        found: list[tuple[str, FolderReader]] = [("plugins", self.plugins)]
        return [("base", self.base), *found] if self.base is not None else found

    def owner(self, relative: str) -> str | None:
        """"base", "plugins" or None (neither has the path)."""
        if relative in self._owners:
            return self._owners[relative]
        layers = self._layers()
        parts = relative.split("/")
        found: str | None = None
        for depth in range(1, len(parts)):
            package = "/".join(parts[:depth]) + "/__init__.py"
            holder = next((name for name, layer in layers if layer.kind(package) == "file"), None)
            if holder is not None:
                found = holder if dict(layers)[holder].kind(relative) is not None else None
                break
        else:
            found = next((name for name, layer in layers if layer.kind(relative) is not None), None)
        self._owners[relative] = found
        return found

    @property
    def dag_folder(self) -> "FolderReader":
        """The DAG folder alone: where open() and Jinja's loader find data and template files."""
        return self.base if self.base is not None else _NoFolder()

    def shadowed(self, relative: str, limit: int) -> bool:
        """Whether `relative` is a file in both the DAG folder and the archive, with other bytes: which
        one Airflow imports depends on its sys.path order (the DAG folder comes first on Airflow 2,
        the plugins folder on Airflow 3), so a static reader cannot know which one runs."""
        if self.base is None or self.base.kind(relative) != "file" or self.plugins.kind(relative) != "file":
            return False
        return self.base.read(relative, limit) != self.plugins.read(relative, limit)

    def from_plugins(self, relative: str) -> bool:
        return self.owner(relative) == "plugins"

    def shown(self, relative: str) -> str:
        """How a plugins path is shown in diagnostics: inside the archive, as zipimport would."""
        return f"{self.plugins.display}/{relative}"

    def kind(self, relative: str) -> str | None:
        owner = self.owner(relative)
        return None if owner is None else dict(self._layers())[owner].kind(relative)

    def read(self, relative: str, limit: int) -> bytes | str:
        owner = self.owner(relative)
        if owner is None:
            return f"{relative!r} does not exist in the DAG folder or {self.plugins.display}"
        return dict(self._layers())[owner].read(relative, limit)

    def version(self, relative: str) -> str:
        owner = self.owner(relative)
        return "" if owner is None else f"{owner}:{dict(self._layers())[owner].version(relative)}"

    def digest(self, relative: str, data: bytes | None = None) -> str:
        owner = self.owner(relative)
        if owner is None:
            return "missing"
        found = dict(self._layers())[owner].digest(relative, data)
        if owner == "plugins":
            return PLUGINS_PREFIX + found
        if self.plugins.kind(relative) == "file":  # both have it: a change to either may matter (shadowed())
            found += "+" + PLUGINS_PREFIX + self.plugins.digest(relative)
        return found


__all__ = ["LayeredFolder", "PLUGINS_PREFIX", "PluginsArchive", "PluginsUnusable"]
