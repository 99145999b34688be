"""Where DAG files come from and where YAML, reports and the manifest go: local folders and s3://.

One `Source` type whatever the location (a path as given, its place below the input root, a
fingerprint for the manifest, a size known before reading, and `read()`), and one `Sink`
protocol for outputs, so the batch driver never branches on the kind of storage. boto3 is
imported only when an s3:// location is used (storage/s3.py).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dag_converter.model import Diagnostic
from dag_converter.storage.base import Sink, Source, Sources, StorageError, is_s3_url
from dag_converter.storage.ignore import DEFAULT_SYNTAX, IgnoreSyntax

if TYPE_CHECKING:
    from botocore.client import BaseClient


class Storage:
    """Opens sources and sinks. Every s3:// location of one run shares one client, made on first
    use (so a local run never imports boto3)."""

    def __init__(self, endpoint_url: str | None = None, *, connections: int = 10) -> None:
        self._endpoint_url = endpoint_url
        self._connections = connections
        self._client: "BaseClient | None" = None

    def s3_client(self) -> "BaseClient":
        """The S3 client; raises errors.StorageUnavailable when boto3 is not installed."""
        if self._client is None:
            from dag_converter.storage.s3 import make_client

            self._client = make_client(self._endpoint_url, max_connections=self._connections)
        return self._client

    def open_sources(self, paths: Sequence[str], *, excludes: Sequence[str] = (),
                     base: Path | None = None, ignore_syntax: IgnoreSyntax = DEFAULT_SYNTAX) -> Sources:
        """Resolve local paths and s3:// URLs into sources; `excludes` (globs relative to `base`)
        drop local files; .airflowignore lines are read in `ignore_syntax`."""
        found: list[Source] = []
        problems: list[Diagnostic] = []
        excluded: tuple[str, ...] = ()
        for path in paths:
            if is_s3_url(path):
                from dag_converter.storage.s3 import discover_s3

                listed, trouble = discover_s3(self.s3_client(), path, ignore_syntax)
                found.extend(listed)
                problems.extend(trouble)
        local_paths = [p for p in paths if not is_s3_url(p)]
        if local_paths:
            from dag_converter.storage.local import open_local

            listed, trouble, excluded = open_local(local_paths, excludes=excludes, base=base or Path.cwd(),
                                                   ignore_syntax=ignore_syntax)
            found.extend(listed)
            problems.extend(trouble)
        order = {p: n for n, p in enumerate(paths)}
        # Sources in the order their paths were given, each path's files in walk order.
        found.sort(key=lambda s: order.get(root_of(s.display, paths), len(paths)))
        return Sources(tuple(found), tuple(problems), excluded)

    def read_whole(self, location: str, limit: int, version: str | None = None) -> bytes:
        """One file's bytes (a local path, or an s3:// object at `version` when given), at most
        `limit` bytes; raises StorageError (why, in one line) when it cannot be read or is larger."""
        if is_s3_url(location):
            from dag_converter.storage.s3 import read_object_limited

            return read_object_limited(self.s3_client(), location, limit, version)
        try:
            with open(location, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise StorageError(f"{location} is not a regular file")
                data = handle.read(limit + 1)
        except OSError as exc:
            raise StorageError(f"cannot read {location}: {exc.strerror or exc}") from None
        if len(data) > limit:
            raise StorageError(f"{location} is larger than {limit} bytes")
        return data

    def open_sink(self, location: str) -> Sink:
        """A local folder or an s3:// folder to write to; raises errors.ConfigError for a bad URL."""
        if is_s3_url(location):
            from dag_converter.storage.s3 import S3Location, S3Sink

            return S3Sink(self.s3_client(), S3Location.parse(location))
        from dag_converter.storage.local import LocalSink

        return LocalSink(Path(location))


def root_of(display: str, paths: Sequence[str]) -> str:
    """Which of the given paths a source was found under ('' when none)."""
    for path in paths:
        if display == path or display.startswith(path.rstrip("/") + "/") or \
                display.startswith(path.rstrip(os.sep) + os.sep):
            return path
    return ""


def open_sources(paths: Sequence[str], *, excludes: Sequence[str] = (), base: Path | None = None,
                 endpoint_url: str | None = None, ignore_syntax: IgnoreSyntax = DEFAULT_SYNTAX) -> Sources:
    """`Storage(endpoint_url).open_sources(...)`, for a caller that needs no sink."""
    return Storage(endpoint_url).open_sources(paths, excludes=excludes, base=base, ignore_syntax=ignore_syntax)


def open_sink(location: str, *, endpoint_url: str | None = None) -> Sink:
    """`Storage(endpoint_url).open_sink(location)`, for a caller that needs nothing else."""
    return Storage(endpoint_url).open_sink(location)


__all__ = ["Sink", "Source", "Sources", "Storage", "StorageError", "is_s3_url", "open_sink", "open_sources",
           "root_of"]
