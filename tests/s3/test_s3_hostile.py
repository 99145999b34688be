"""S3 side of issue 16: the manifest records the ETag of the bytes read (GET), a file that
fails is exit 1 even when others converted, and hostile .airflowignore objects are bounded."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dag_converter.batch.manifest import MANIFEST_NAME
from dag_converter.cli import main
from dag_converter.storage.s3 import discover_s3, make_client
from tests.s3.conftest import dag_source


def _invoke(*args: str):  # noqa: ANN202 - click's Result
    return CliRunner().invoke(main, ["convert", *args], catch_exceptions=False)


def test_the_fingerprint_recorded_is_the_get_etag_not_the_listing(s3, bucket: str) -> None:  # noqa: ANN001
    s3.put_object(Bucket=bucket, Key="dags/a.py", Body=dag_source(1).encode())
    [source], problems = discover_s3(make_client(), f"s3://{bucket}/dags/")
    assert not problems
    listed = source.fingerprint
    # The object is replaced between the listing and the read: what is converted is the new one.
    new = dag_source(2).encode()
    etag = s3.put_object(Bucket=bucket, Key="dags/a.py", Body=new)["ETag"].strip('"')
    assert source.read() == new
    assert source.recorded_fingerprint() == f"etag={etag};size={len(new)};path=a.py" != listed


def test_a_run_records_the_etag_of_what_it_read(s3, bucket: str) -> None:  # noqa: ANN001
    etag = s3.put_object(Bucket=bucket, Key="dags/a.py", Body=dag_source(1).encode())["ETag"].strip('"')
    assert _invoke(f"s3://{bucket}/dags/", "-o", f"s3://{bucket}/out/", "-j", "1").exit_code == 0
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"out/{MANIFEST_NAME}")["Body"].read())
    assert manifest["sources"][f"s3://{bucket}/dags/a.py"]["fingerprint"] == \
        f"etag={etag};size={len(dag_source(1).encode())};path=a.py"
    rerun = _invoke(f"s3://{bucket}/dags/", "-o", f"s3://{bucket}/out/", "-j", "1")
    assert "1 sources unchanged" in rerun.output


def test_an_object_named_alone_after_a_folder_run_is_converted_again(s3, bucket: str) -> None:  # noqa: ANN001
    """Named alone, an object's folder is its own prefix, so its path (and its YAML's source line)
    differs from the folder run's: the manifest entry of the folder run does not make it current."""
    s3.put_object(Bucket=bucket, Key="dags/team/a.py", Body=dag_source(1).encode())
    first = _invoke(f"s3://{bucket}/dags/team/a.py", "-o", f"s3://{bucket}/first/", "-j", "1")  # no manifest yet
    assert first.exit_code == 0, first.output
    assert _invoke(f"s3://{bucket}/dags/", "-o", f"s3://{bucket}/out/", "-j", "1").exit_code == 0
    alone = _invoke(f"s3://{bucket}/dags/team/a.py", "-o", f"s3://{bucket}/out/", "-j", "1")
    assert alone.exit_code == 0, alone.output
    assert "0 sources unchanged" in alone.output
    assert _invoke(f"s3://{bucket}/dags/team/a.py", "-o", f"s3://{bucket}/out/", "-j", "1").output.count(
        "1 sources unchanged") == 1


def test_a_bad_object_is_exit_1_even_when_others_convert(s3, bucket: str) -> None:  # noqa: ANN001
    s3.put_object(Bucket=bucket, Key="dags/good.py", Body=dag_source(1).encode())
    s3.put_object(Bucket=bucket, Key="dags/latin.py", Body=b"from airflow import DAG\nx = '\xe9'\n")
    s3.put_object(Bucket=bucket, Key="dags/broken.py", Body=b"from airflow import DAG\ndef (:\n")
    for mode in ([], ["--check"], ["--fail-on-change"]):
        result = _invoke(f"s3://{bucket}/dags/", "-o", f"s3://{bucket}/out/", "-j", "1", *mode)
        assert result.exit_code == 1, result.output
    assert "out/etl_001.yaml" in {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]}


def test_hostile_ignore_lines_in_s3_are_bounded(s3, bucket: str) -> None:  # noqa: ANN001
    s3.put_object(Bucket=bucket, Key="dags/.airflowignore", Body=b"(x+x+)+y\n" + b"(" * 3000 + b"a" + b")" * 3000)
    s3.put_object(Bucket=bucket, Key="dags/" + "x" * 300 + ".py", Body=dag_source(3).encode())
    s3.put_object(Bucket=bucket, Key="dags/sub/.airflowignore", Body=b"*.py\n!keep.py\n")
    s3.put_object(Bucket=bucket, Key="dags/sub/keep.py", Body=dag_source(4).encode())
    s3.put_object(Bucket=bucket, Key="dags/sub/drop.py", Body=dag_source(5).encode())
    found, problems = discover_s3(make_client(), f"s3://{bucket}/dags/")
    assert sorted(s.relative for s in found) == sorted(["x" * 300 + ".py", "sub/keep.py"])
    assert [(p.code, p.span.line) for p in problems] == [("DC120", 2)]  # over 4,096 characters
