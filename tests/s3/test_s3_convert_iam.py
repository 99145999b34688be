"""`convert s3://... --output s3://... --iam` against moto's S3 server: the role files go through the
same Sink as the YAML, a rerun puts nothing, and the role reads its definition where it is."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dag_converter.cli import main
from tests.s3.conftest import RequestLog, dag_source


def _invoke(*args: str):  # noqa: ANN202
    return CliRunner().invoke(main, ["convert", *args], catch_exceptions=False)


def test_roles_are_written_to_s3_beside_the_yaml(s3, bucket: str, request_log: RequestLog) -> None:  # noqa: ANN001
    for n in range(3):
        s3.put_object(Bucket=bucket, Key=f"dags/etl_{n:03d}.py", Body=dag_source(n).encode())
    args = (f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "--iam", "--account", "123456789012")
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"])
    assert [k for k in keys if k.endswith(".iam.json")] == [f"out/etl_{n:03d}.iam.json" for n in range(3)]
    document = json.loads(s3.get_object(Bucket=bucket, Key="out/etl_001.iam.json")["Body"].read())
    statements = {s["Sid"]: s for s in document["permissions_policy"]["Statement"]}
    # The definition is read from where convert put it; the DAG's buckets from its literal arguments.
    assert statements["ServiceDefinitionAndCode"]["Resource"] == [f"arn:aws:s3:::{bucket}/out/etl_001.yaml"]
    assert "arn:aws:s3:::data-001" in json.dumps(document["permissions_policy"])
    manifest = json.loads(s3.get_object(Bucket=bucket, Key="out/conversion-manifest.json")["Body"].read())
    assert "etl_001.iam.json" in manifest["sources"][f"s3://{bucket}/dags/etl_001.py"]["outputs"]
    markdown = s3.get_object(Bucket=bucket, Key="out/conversion-report.md")["Body"].read().decode()
    assert "## Execution roles" in markdown and "`s3:ListBucket`" in markdown

    request_log.clear()
    again = _invoke(*args)
    assert again.exit_code == 0, again.output
    assert request_log.count("PUT", f"/{bucket}/") == 0  # nothing rewritten, reports included
    assert _invoke(*args[:3], "--iam", "--account", "123456789012", "--check").exit_code == 0
    s3.delete_object(Bucket=bucket, Key="out/etl_002.iam.json")
    check = _invoke(*args, "--check")
    assert check.exit_code == 1 and "DC115" in check.output and "etl_002.iam.json" in check.output
