"""User errors: what stops a run before it starts (exit 2), as one family the CLI catches in one place.

Everything that goes wrong with one DAG file is a diagnostic in that file's result, never an
exception (model.Diagnostic, codes.py). What is left are mistakes in how the tool was called or
set up: a bad flag or config key, a target that does not exist, a storage location that cannot be
used here, a verify run without its extra. Each is a `UsageError` whose str() is the one line the
CLI prints after "error: ". A bug stays a bug: nothing here catches ValueError or RuntimeError.
"""

from __future__ import annotations


class UsageError(Exception):
    """The run cannot start as asked; str() says why in one line. The CLI exits with 2."""


class ConfigError(UsageError):
    """pyproject.toml cannot be read, [tool.dag-converter] holds a wrong key or value, or a flag's
    value is malformed (a report format, an s3:// URL, --dags-folder)."""


class UnknownTarget(UsageError):
    """The target named by a flag or the config does not exist."""


class StorageUnavailable(UsageError):
    """A storage location cannot be used here (s3:// without boto3, a local-only mode on S3)."""


class VerifyUnavailable(UsageError):
    """--verify cannot run: Airflow or dag-factory is not installed, or the DAG files are not local."""


__all__ = ["ConfigError", "StorageUnavailable", "UnknownTarget", "UsageError", "VerifyUnavailable"]
