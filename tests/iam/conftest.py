"""A real AWS API for the IAM tests: the session's moto server on 127.0.0.1 (tests/s3/conftest.py).
Nothing in boto3 is stubbed."""

from s3.conftest import aws_env, s3_endpoint  # noqa: F401 - fixtures
