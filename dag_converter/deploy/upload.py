"""Definitions in S3: where each YAML lives, uploaded when the output folder is local.

An object already holding the same bytes (its `sha256` metadata, written by this module) is not
uploaded again. When the bucket is versioned, S3 returns a VersionId and the workflow is pinned to
it (`DefinitionS3Location.VersionId`), so the service reads exactly the bytes this run checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from dag_converter.deploy.service import ServiceFailure

if TYPE_CHECKING:
    from botocore.client import BaseClient

SCHEME: Final = "s3://"
DIGEST_METADATA: Final = "sha256"  #: x-amz-meta-sha256


@dataclass(frozen=True, slots=True)
class Folder:
    bucket: str
    prefix: str  #: "" or ending in "/"

    @classmethod
    def parse(cls, url: str) -> "Folder":
        if not url.startswith(SCHEME) or not url[len(SCHEME):].split("/", 1)[0]:
            raise ValueError(f"{url!r} is not an s3://BUCKET/PREFIX/ location")
        bucket, _, prefix = url[len(SCHEME):].partition("/")
        prefix = prefix.strip("/")
        return cls(bucket, prefix + "/" if prefix else "")

    @property
    def url(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}"


@dataclass(frozen=True, slots=True)
class S3Ref:
    bucket: str
    key: str
    version: str | None = None

    def member(self) -> dict[str, str]:
        """As DefinitionS3Location or Code.S3Location (Bucket, ObjectKey, VersionId?)."""
        found = {"Bucket": self.bucket, "ObjectKey": self.key}
        if self.version:
            found["VersionId"] = self.version
        return found


def _version(response: dict[str, Any]) -> str | None:
    version = response.get("VersionId")
    return version if isinstance(version, str) and version and version != "null" else None


def _failure(operation: str, exc: BaseException) -> ServiceFailure:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return ServiceFailure(operation, str(error.get("Code", "Unknown")), str(error.get("Message", "")))
    return ServiceFailure(operation, type(exc).__name__, str(exc))


def upload(s3: "BaseClient", folder: Folder, name: str, data: bytes, sha256: str, *,
           content_type: str = "application/yaml") -> tuple[S3Ref, bool]:
    """Put `data` at folder/name unless the same digest is there; (where it is, whether it was put)."""
    from botocore.exceptions import BotoCoreError, ClientError

    key = folder.prefix + name
    try:
        try:
            head = s3.head_object(Bucket=folder.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
            head = None
        if head is not None and head.get("Metadata", {}).get(DIGEST_METADATA) == sha256:
            return S3Ref(folder.bucket, key, _version(head)), False
        put = s3.put_object(Bucket=folder.bucket, Key=key, Body=data, ContentType=content_type,
                            Metadata={DIGEST_METADATA: sha256})
    except (BotoCoreError, ClientError) as exc:
        raise _failure("PutObject", exc) from exc
    return S3Ref(folder.bucket, key, _version(put)), True


def read_object(s3: "BaseClient", folder: Folder, name: str) -> tuple[bytes, S3Ref]:
    """The bytes and version of folder/name (an output folder in S3); OSError when unreadable."""
    from botocore.exceptions import BotoCoreError, ClientError

    key = folder.prefix + name
    try:
        response = s3.get_object(Bucket=folder.bucket, Key=key)
        data = response["Body"].read()
    except (BotoCoreError, ClientError) as exc:
        raise OSError(str(_failure("GetObject", exc))) from exc
    return data, S3Ref(folder.bucket, key, _version(response))


__all__ = ["Folder", "S3Ref", "read_object", "upload"]
