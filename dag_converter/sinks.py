"""Where YAML, reports and the manifest go: a local folder or an s3:// folder.

Both kinds answer the same questions (is this file already current? write it atomically), so
the runner never branches on the kind. A failed write raises SinkError with a one-line detail.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dag_converter.emit import write_atomic
from dag_converter.sources_s3 import S3Failure, S3Location, list_objects, md5_hex, read_object, write_object

if TYPE_CHECKING:
    from botocore.client import BaseClient


class SinkError(Exception):
    """A write or read in the output location failed; str() says why."""


class Sink(Protocol):
    def prepare(self) -> None:
        """Learn what is already there (one listing for S3); failures surface on the writes."""

    def url(self, name: str) -> str: ...

    def exists(self, name: str) -> bool: ...

    def is_current(self, name: str, text: str) -> bool:
        """Whether `name` already holds exactly `text`, so writing it would change nothing."""

    def read_text(self, name: str) -> str | None: ...

    def write_text(self, name: str, text: str) -> None: ...


class LocalSink:
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
            return (self.folder / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def write_text(self, name: str, text: str) -> None:
        try:
            write_atomic(self.folder / name, text)
        except OSError as exc:
            raise SinkError(exc.strerror or str(exc)) from exc


class S3Sink:
    """An s3:// folder. The listing taken by prepare() holds each object's ETag, which for a
    single-part upload is the MD5 of its bytes: a current object is recognised without a GET,
    and never put again."""

    def __init__(self, client: "BaseClient", location: S3Location) -> None:
        self.client = client
        self.location = location
        self._etags: dict[str, str] = {}

    def __str__(self) -> str:
        return self.location.url()

    def prepare(self) -> None:
        try:
            objects = list_objects(self.client, self.location, top_level_only=True)
        except S3Failure:
            return  # a missing bucket or a denied listing: each write then reports its own error
        self._etags = {o.key[len(self.location.prefix):]: o.etag for o in objects}

    def url(self, name: str) -> str:
        return self.location.url(name)

    def exists(self, name: str) -> bool:
        return name in self._etags

    def is_current(self, name: str, text: str) -> bool:
        return self._etags.get(name) == md5_hex(text.encode("utf-8"))

    def read_text(self, name: str) -> str | None:
        if name not in self._etags:
            return None
        try:
            return read_object(self.client, self.location.bucket, self.location.prefix + name).decode("utf-8")
        except (S3Failure, UnicodeDecodeError):
            return None

    def write_text(self, name: str, text: str) -> None:
        data = text.encode("utf-8")
        content_type = "application/json" if name.endswith(".json") else (
            "text/markdown" if name.endswith(".md") else "application/yaml")
        try:
            etag = write_object(self.client, self.location.bucket, self.location.prefix + name, data, content_type)
        except S3Failure as exc:
            raise SinkError(exc.reason) from exc
        self._etags[name] = etag or md5_hex(data)


__all__ = ["LocalSink", "S3Sink", "Sink", "SinkError"]
