"""s3:// locations: listing DAG objects with their ETags, reading them, and S3Sink (boto3).

boto3 is an optional dependency (the `s3` extra) and is imported only when an s3:// location is
used. Every S3 failure becomes a one-line description (`describe_error`) that the batch driver
turns into a diagnostic for the object concerned; nothing here prints.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from dag_converter import codes
from dag_converter.errors import ConfigError, StorageUnavailable
from dag_converter.model import Diagnostic, Span
from dag_converter.storage.base import MAX_READ_BACK, Source, StorageError, is_s3_url
from dag_converter.storage.ignore import DEFAULT_SYNTAX, MAX_IGNORE_FILE, IgnoreRules, IgnoreSyntax, is_ignored
from dag_converter.storage.local import is_skipped_folder, read_ignore_file

if TYPE_CHECKING:
    from botocore.client import BaseClient

S3_SCHEME: Final = "s3://"
INSTALL_HINT: Final = 'reading or writing s3:// locations needs boto3: pip install "dag-converter[s3]"'
#: botocore's standard retry mode: exponential backoff with jitter on throttling and 5xx errors.
RETRY_ATTEMPTS: Final = 8


class S3Failure(StorageError):
    """An S3 request failed. `reason` says why in one line; `str()` adds what and where."""

    def __init__(self, operation: str, url: str, reason: str) -> None:
        super().__init__(f"cannot {operation} {url}: {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class S3Location:
    """A bucket and a key prefix ('' or ending in '/'): an S3 "folder"."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> "S3Location":
        """`s3://bucket/some/prefix` -> S3Location("bucket", "some/prefix/"). A URL names a folder
        here, so a trailing slash is implied."""
        if not is_s3_url(url):
            raise ConfigError(f"not an s3:// URL: {url}")
        bucket, _, prefix = url[len(S3_SCHEME):].partition("/")
        if not bucket:
            raise ConfigError(f"no bucket in {url}")
        prefix = prefix.strip("/")
        return cls(bucket, prefix + "/" if prefix else "")

    def url(self, key: str = "") -> str:
        """The s3:// URL of a key below this location, or of the location itself."""
        return f"{S3_SCHEME}{self.bucket}/{self.prefix}{key}"


def make_client(endpoint_url: str | None = None, *, max_connections: int = 10) -> "BaseClient":
    """An S3 client from the standard credential chain, region and endpoint settings
    (AWS_ENDPOINT_URL is honoured by botocore itself; `endpoint_url` overrides it)."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise StorageUnavailable(INSTALL_HINT) from exc
    config = Config(retries={"mode": "standard", "max_attempts": RETRY_ATTEMPTS},
                    max_pool_connections=max(10, max_connections))
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint_url or None, config=config)


def describe_error(exc: BaseException, operation: str, bucket: str) -> str:
    """Why a request failed, in one line a person can act on."""
    from botocore import exceptions as bex

    if isinstance(exc, bex.NoCredentialsError):
        return ("no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or run with an IAM role)")
    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        code = str(error.get("Code", "")) or status
        message = str(error.get("Message", "")) or _STATUS_MEANING.get(code, "")
        if code == "NoSuchBucket" or (code == "404" and operation == "list"):
            return f"bucket {bucket!r} does not exist ({code})"
        if code in ("AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return f"access denied ({code}: {message}); the credentials need s3:{_ACTIONS[operation]} here"
        if code in ("SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "503"):
            return f"throttled by S3 after {RETRY_ATTEMPTS} attempts ({code}); run again later or lower --jobs"
        return f"{code}: {message}" if message else code
    return str(exc) if isinstance(exc, bex.BotoCoreError) else f"{type(exc).__name__}: {exc}"


_STATUS_MEANING: Final = {"403": "Forbidden", "404": "Not Found", "503": "Slow Down"}
_ACTIONS: Final = {"list": "ListBucket", "read": "GetObject", "write": "PutObject"}


def _errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


@dataclass(frozen=True, slots=True)
class S3Object:
    key: str
    etag: str  #: without quotes
    size: int


def list_objects(client: "BaseClient", location: S3Location, *, top_level_only: bool = False) -> list[S3Object]:
    """Every object below the location, paginated; raises S3Failure."""
    found: list[S3Object] = []
    kwargs: dict[str, Any] = {"Bucket": location.bucket, "Prefix": location.prefix}
    if top_level_only:
        kwargs["Delimiter"] = "/"
    try:
        for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
            for item in page.get("Contents", ()):
                found.append(S3Object(item["Key"], str(item.get("ETag", "")).strip('"'), int(item.get("Size", 0))))
    except _errors() as exc:
        raise S3Failure("list", location.url(), describe_error(exc, "list", location.bucket)) from exc
    return found


def read_object(client: "BaseClient", bucket: str, key: str) -> bytes:
    """An object's bytes; raises S3Failure. A body shorter than its Content-Length (a dropped
    connection) is an error, never a truncated file."""
    return read_object_etag(client, bucket, key)[0]


def read_object_etag(client: "BaseClient", bucket: str, key: str) -> tuple[bytes, str]:
    """An object's bytes and the ETag of exactly those bytes (the GET's, not a listing's)."""
    url = f"{S3_SCHEME}{bucket}/{key}"
    try:
        response = client.get_object(Bucket=bucket, Key=key)
        data = response["Body"].read()
    except _errors() as exc:
        raise S3Failure("read", url, describe_error(exc, "read", bucket)) from exc
    expected = response.get("ContentLength")
    if expected is not None and len(data) != int(expected):
        raise S3Failure("read", url, f"got {len(data)} of {expected} bytes (connection dropped)")
    return data, str(response.get("ETag", "")).strip('"')


def read_object_limited(client: "BaseClient", url: str, limit: int, version: str | None = None) -> bytes:
    """The bytes of the object an s3:// URL names (at `version` when given), refused when larger
    than `limit` bytes before its body is read; raises S3Failure or ConfigError (a bad URL)."""
    location = S3Location.parse(url)
    key = location.prefix.rstrip("/")
    if not key:
        raise S3Failure("read", url, "the URL names a bucket or folder, not an object")
    extra = {"VersionId": version} if version else {}
    try:
        response = client.get_object(Bucket=location.bucket, Key=key, **extra)
        size = int(response.get("ContentLength") or 0)
        if size > limit:
            response["Body"].close()
            raise S3Failure("read", url, f"it is {size} bytes, over the {limit}-byte limit")
        data = response["Body"].read(limit + 1)
    except _errors() as exc:
        raise S3Failure("read", url, describe_error(exc, "read", location.bucket)) from exc
    if len(data) > limit:
        raise S3Failure("read", url, f"it is over the {limit}-byte limit")
    return data


def write_object(client: "BaseClient", bucket: str, key: str, data: bytes, content_type: str) -> str:
    """PutObject (atomic in S3: readers see the old object or the new one); returns the ETag."""
    url = f"{S3_SCHEME}{bucket}/{key}"
    try:
        response = client.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type,
                                     ContentMD5=_content_md5(data))
    except _errors() as exc:
        raise S3Failure("write", url, describe_error(exc, "write", bucket)) from exc
    return str(response.get("ETag", "")).strip('"')


def _content_md5(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


def discover_s3(client: "BaseClient", url: str,
                syntax: IgnoreSyntax = DEFAULT_SYNTAX) -> tuple[list[Source], list[Diagnostic]]:
    """The *.py objects below an s3:// folder, .airflowignore files honoured as in a local folder
    walk (same rules, storage.local.is_ignored), in a stable order. A URL ending in .py names one object."""
    single = url.endswith(".py")
    location = S3Location.parse(url.rsplit("/", 1)[0] if single else url)
    try:
        objects = list_objects(client, location)
    except S3Failure as exc:
        return [], [codes.make(codes.STORAGE_ERROR, Span(url), detail=str(exc))]
    problems: list[Diagnostic] = []
    own_rules: dict[str, IgnoreRules] = {}  #: by folder: the rules of its own .airflowignore
    for obj in objects:
        relative = obj.key[len(location.prefix):]
        folder, _, name = relative.rpartition("/")
        if name != ".airflowignore" or single:
            continue
        if obj.size > MAX_IGNORE_FILE:
            continue  # read in part, as a local one is
        try:
            data = read_object(client, location.bucket, obj.key)
        except S3Failure as exc:
            problems.append(codes.make(codes.STORAGE_ERROR, Span(location.url(relative)), detail=str(exc)))
            continue
        own_rules[folder] = read_ignore_file(lambda: data, location.url(relative), folder, syntax, problems)
    found = []
    folder = S3Folder(client, location, objects, getattr(getattr(client, "meta", None), "endpoint_url", None))
    for obj in objects:
        relative = obj.key[len(location.prefix):]
        if single:
            if location.url(relative) == url:
                found.append(_source(client, location, obj, url, relative, folder, explicit=True))
            continue
        if not relative.endswith(".py") or _excluded(relative, own_rules, syntax):
            continue
        found.append(_source(client, location, obj, location.url(relative), relative, folder))
    found.sort(key=lambda s: s.relative.split("/"))
    if not found and not problems:
        detail = f"no such object: {url}" if single else f"no Python files in {location.url()}"
        problems.append(codes.make(codes.NO_INPUT, Span(url), detail=detail))
    return found, problems


class S3Folder:
    """The DAG folder below an s3:// prefix, for the analysis (the analyzer's FolderReader): helper
    modules, data files and templates beside the DAG files are read exactly as a local run reads
    them. Paths are answered from the listing taken for the walk; objects are read on demand. It
    pickles without its client (worker processes make their own, from the same endpoint)."""

    def __init__(self, client: "BaseClient | None", location: S3Location, objects: Sequence[S3Object],
                 endpoint_url: str | None = None) -> None:
        self._client = client
        self.location = location
        self.endpoint_url = endpoint_url
        self.files = {obj.key[len(location.prefix):]: obj for obj in objects}
        folders: set[str] = set()
        for relative in self.files:
            parts = relative.split("/")[:-1]
            folders.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        self.folders = frozenset(folders)
        self._read_etags: dict[str, str] = {}  #: the GET's ETag of each object read (digest())

    def __getstate__(self) -> dict[str, object]:
        return {"location": self.location, "endpoint_url": self.endpoint_url, "files": self.files,
                "folders": self.folders}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._client = None
        self._read_etags = {}
        self.__dict__.update(state)

    def kind(self, relative: str) -> str | None:
        if relative in self.files:
            return "file"
        return "dir" if relative in self.folders else None

    def version(self, relative: str) -> str:
        obj = self.files.get(relative)
        return f"{self.location.url(relative)}:{obj.etag}:{obj.size}" if obj is not None else ""

    def digest(self, relative: str, data: bytes | None = None) -> str:
        """The object's ETag (of the bytes read, else the listing's: a rerun compares it with its
        own listing, without a GET), "dir" for a folder of the listing, else "missing"."""
        obj = self.files.get(relative)
        if obj is not None:
            return "etag:" + self._read_etags.get(relative, obj.etag)
        return "dir" if relative in self.folders else "missing"

    def read(self, relative: str, limit: int) -> bytes | str:
        obj = self.files.get(relative)
        if obj is None:
            return f"{relative!r} does not exist in the DAG folder"
        if obj.size > limit:
            return f"{relative!r} is larger than {limit} bytes"
        if self._client is None:
            self._client = make_client(self.endpoint_url)
        try:
            data, etag = read_object_etag(self._client, self.location.bucket, obj.key)
        except S3Failure as exc:
            return f"{relative!r} cannot be read ({exc})"
        if etag:
            self._read_etags[relative] = etag
        return data if len(data) <= limit else f"{relative!r} is larger than {limit} bytes"


def _excluded(relative: str, own_rules: dict[str, IgnoreRules], syntax: IgnoreSyntax) -> bool:
    """What the local walk would skip: a hidden or cache folder on the way, or an ignore rule in
    force in a folder matching the file or a folder on its way (the walk never enters an ignored
    folder); each folder's rules are its parents' followed by its own."""
    parts = relative.split("/")
    if any(is_skipped_folder(part) for part in parts[:-1]) or not parts[-1]:
        return True
    rules: IgnoreRules = list(own_rules.get("", ()))
    for i in range(1, len(parts) + 1):
        if is_ignored("/".join(parts[:i]), rules, is_folder=i < len(parts), syntax=syntax):
            return True
        rules += own_rules.get("/".join(parts[:i]), ())
    return False


def _source(client: "BaseClient", location: S3Location, obj: S3Object, display: str, relative: str,
            folder: "S3Folder", *, explicit: bool = False) -> Source:
    """A listed *.py object; its fingerprint is the listing's ETag and size, and once read, the
    GET's ETag and size: the manifest records the bytes that were converted, even when the
    object was replaced between the listing and the read. Both hold the key below the folder
    named (as local fingerprints hold the path): named alone, an object's folder is another one,
    and its YAML names another source path."""
    bucket, key = location.bucket, obj.key
    read: list[str] = []

    def reader() -> bytes:
        data, etag = read_object_etag(client, bucket, key)
        read[:] = [f"etag={etag};size={len(data)};path={relative}"]
        return data

    return Source(display, relative, f"etag={obj.etag};size={obj.size};path={relative}", obj.size, reader, explicit,
                  folder, read_fingerprint=lambda: read[0] if read else None)


def md5_hex(data: bytes) -> str:
    """S3's ETag of a single-part upload without SSE-KMS: lets a rerun see an object is current."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class S3Sink:
    """An s3:// folder. The listing taken by prepare() holds each object's ETag, which for a
    single-part upload is the MD5 of its bytes: a current object is recognised without a GET,
    and never put again."""

    def __init__(self, client: "BaseClient", location: S3Location) -> None:
        self.client = client
        self.location = location
        self._etags: dict[str, str] = {}
        self._sizes: dict[str, int] = {}

    def __str__(self) -> str:
        return self.location.url()

    def prepare(self) -> None:
        try:
            objects = list_objects(self.client, self.location, top_level_only=True)
        except S3Failure:
            return  # a missing bucket or a denied listing: each write then reports its own error
        self._etags = {o.key[len(self.location.prefix):]: o.etag for o in objects}
        self._sizes = {o.key[len(self.location.prefix):]: o.size for o in objects}

    def url(self, name: str) -> str:
        return self.location.url(name)

    def exists(self, name: str) -> bool:
        return name in self._etags

    def is_current(self, name: str, text: str) -> bool:
        return self._etags.get(name) == md5_hex(text.encode("utf-8"))

    def read_text(self, name: str) -> str | None:
        if name not in self._etags or self._sizes.get(name, 0) > MAX_READ_BACK:
            return None  # a huge object reads as missing: converted and written again, never loaded
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
            raise StorageError(exc.reason) from exc
        self._etags[name] = etag or md5_hex(data)
        self._sizes[name] = len(data)

    def delete(self, name: str) -> None:
        key = self.location.prefix + name
        try:
            self.client.delete_object(Bucket=self.location.bucket, Key=key)
        except _errors() as exc:
            raise StorageError(describe_error(exc, "delete", self.location.bucket)) from exc
        self._etags.pop(name, None)

    def is_current_bytes(self, name: str, data: bytes) -> bool:
        return self._etags.get(name) == md5_hex(data)

    def write_bytes(self, name: str, data: bytes) -> None:
        """A binary file (a code package); raises StorageError."""
        try:
            etag = write_object(self.client, self.location.bucket, self.location.prefix + name, data, "application/zip")
        except S3Failure as exc:
            raise StorageError(exc.reason) from exc
        self._etags[name] = etag or md5_hex(data)


__all__ = ["INSTALL_HINT", "S3Failure", "S3Location", "S3Object", "S3Sink", "describe_error", "discover_s3",
           "is_s3_url", "list_objects", "make_client", "md5_hex", "read_object", "read_object_etag", "write_object"]
