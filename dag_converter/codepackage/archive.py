"""A deterministic zip: the same files give the same bytes, on every run and machine.

Entries sit at the archive root (the service extracts the zip into its DAG folder, so root-level
modules import directly), sorted by path, dated 1980-01-01 00:00 (the earliest date zip can hold),
mode 0644, made on "Unix", deflated at level 9; no __pycache__ or compiled files. The manifest lists
every file with its size, SHA-256 and why it is in the package, for the report.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
_FILE_MODE: Final = 0o100644  #: regular file, rw-r--r--
_UNIX: Final = 3  #: ZipInfo.create_system; Python sets 0 on Windows, which would change the bytes
_EXCLUDED_PARTS: Final = frozenset({"__pycache__"})
_EXCLUDED_SUFFIXES: Final = (".pyc", ".pyo")


@dataclass(frozen=True, slots=True)
class PackageEntry:
    """One file of the package."""

    path: str  #: POSIX path inside the archive, relative
    data: bytes
    reason: str  #: why it is in the package (shown in the report)


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """A file of the package as the report lists it."""

    path: str
    size: int
    sha256: str
    reason: str


def is_excluded(path: str) -> bool:
    """Compiled files and caches never go into a package."""
    parts = path.split("/")
    return any(p in _EXCLUDED_PARTS for p in parts) or path.endswith(_EXCLUDED_SUFFIXES)


def build_zip(entries: Iterable[PackageEntry]) -> tuple[bytes, tuple[ManifestEntry, ...]]:
    """The zip's bytes and its manifest; raises ValueError on an unsafe or duplicate path."""
    chosen: dict[str, PackageEntry] = {}
    for entry in entries:
        _check_path(entry.path)
        if is_excluded(entry.path):
            continue
        if entry.path in chosen:
            if chosen[entry.path].data != entry.data:
                raise ValueError(f"two different files for {entry.path!r} in one package")
            continue
        chosen[entry.path] = entry
    buffer = io.BytesIO()
    manifest: list[ManifestEntry] = []
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(chosen):
            entry = chosen[path]
            info = zipfile.ZipInfo(path, date_time=_EPOCH)
            info.create_system = _UNIX
            info.external_attr = _FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entry.data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            manifest.append(ManifestEntry(path, len(entry.data), hashlib.sha256(entry.data).hexdigest(), entry.reason))
    return buffer.getvalue(), tuple(manifest)


def render_manifest(manifest: Iterable[ManifestEntry]) -> str:
    """One line a file: `path  size  sha256  reason`, in archive order."""
    return "".join(f"{m.path}\t{m.size}\t{m.sha256}\t{m.reason}\n" for m in manifest)


def _check_path(path: str) -> None:
    parts = path.split("/")
    if (not path or path.startswith("/") or "\\" in path or "\x00" in path
            or any(p in ("", ".", "..") for p in parts)):
        raise ValueError(f"unsafe path in a package: {path!r}")
