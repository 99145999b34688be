"""`dag-converter convert s3://... --output s3://...` against a real S3 API (moto server).

What the server saw is read from its own request log (conftest.RequestLog), never from a mock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dag_converter.cli import main
from dag_converter.batch.manifest import MANIFEST_NAME
from tests.s3.conftest import ROOT, RequestLog, dag_source, fixture_sources

BATCH = 200


def _upload_batch(s3, bucket: str, count: int, prefix: str = "dags/", *,  # noqa: ANN001
                  with_fixtures: bool = False) -> list[str]:
    """`count` generated DAG objects in a few subfolders, plus (optionally) the repository's
    fixtures/dags tree under fixtures/; returns the generated dag ids."""
    if with_fixtures:
        for relative, body in fixture_sources():
            s3.put_object(Bucket=bucket, Key=f"{prefix}fixtures/{relative}", Body=body)
    ids = []
    for n in range(count):
        s3.put_object(Bucket=bucket, Key=f"{prefix}team{n % 4}/etl_{n:03d}.py", Body=dag_source(n).encode())
        ids.append(f"etl_{n:03d}")
    return ids


def _invoke(*args: str) -> "CliRunner.invoke":  # type: ignore[valid-type]
    return CliRunner().invoke(main, ["convert", *args], catch_exceptions=False)


def _keys(s3, bucket: str, prefix: str = "") -> dict[str, str]:  # noqa: ANN001
    """key -> ETag of every object below prefix."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            found[item["Key"]] = item["ETag"]
    return found


def test_batch_of_200_objects_then_a_rerun_that_puts_nothing(s3, bucket: str, request_log: RequestLog,
                                                             tmp_path: Path) -> None:
    ids = _upload_batch(s3, bucket, BATCH, with_fixtures=True)
    ignored = [i for i in ids if i.endswith("7")]
    s3.put_object(Bucket=bucket, Key="dags/.airflowignore", Body=b"# generated DAGs we skip\n*7.py\n")
    s3.put_object(Bucket=bucket, Key="dags/README.md", Body=b"not python")
    s3.put_object(Bucket=bucket, Key="dags/broken.py", Body=b"from airflow import DAG\x00\x01")  # corrupt object
    s3.put_object(Bucket=bucket, Key="dags/common/helpers.py", Body=b"from airflow import DAG\nX = 1\n")

    result = _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "--jobs", "2",
                     "--report-dir", str(tmp_path / "report"))

    report = json.loads(s3.get_object(Bucket=bucket, Key="out/conversion-report.json")["Body"].read())
    assert result.exit_code == (1 if report["summary"]["refused"] else 0), result.output
    outputs = _keys(s3, bucket, "out/")
    expected = {f"out/{i}.yaml" for i in ids if i not in ignored}
    assert expected <= set(outputs)
    assert not {f"out/{i}.yaml" for i in ignored} & set(outputs)
    assert {"out/conversion-report.json", "out/conversion-report.md", f"out/{MANIFEST_NAME}"} <= set(outputs)
    assert report["summary"]["converted"] == len([k for k in outputs if k.endswith(".yaml")])
    assert report["summary"]["converted"] >= len(expected)
    broken = next(f for f in report["files"] if f["path"] == f"s3://{bucket}/dags/broken.py")
    assert broken["status"] == "unreadable" and broken["diagnostics"][0]["code"] == "DC106"
    local_report = (tmp_path / "report" / "conversion-report.json").read_text(encoding="utf-8")
    assert json.loads(local_report) == report
    sample = yaml.safe_load(s3.get_object(Bucket=bucket, Key=f"out/{ids[-1]}.yaml")["Body"].read())
    assert list(sample) == [ids[-1]]

    request_log.clear()
    rerun = _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "--jobs", "2")

    assert rerun.exit_code == result.exit_code, rerun.output
    assert request_log.count("PUT", f"/{bucket}/") == 0  # no PutObject at all: YAML, report, manifest
    assert request_log.count("GET", f"/{bucket}/dags/team") == 0  # unchanged sources are not even read
    assert _keys(s3, bucket, "out/") == outputs
    assert f"{report['summary']['files']} sources unchanged" in rerun.output  # every source skipped

    # One changed source: one GET, and PutObject for its YAML and the manifest (the report lists
    # tasks, not their arguments, so its bytes are unchanged and it is not put again).
    changed = ids[0]
    s3.put_object(Bucket=bucket, Key=f"dags/team{int(changed[-3:]) % 4}/{changed}.py",
                  Body=dag_source(int(changed[-3:])).replace("raw/", "landing/").encode())
    request_log.clear()
    third = _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "--jobs", "2")
    assert third.exit_code == result.exit_code, third.output
    assert request_log.count("PUT", f"/{bucket}/out/{changed}.yaml") == 1
    assert request_log.count("PUT", f"/{bucket}/out/") == 2
    assert request_log.count("PUT", f"/{bucket}/out/{MANIFEST_NAME}") == 1
    assert request_log.count("GET", f"/{bucket}/dags/team") == 1


def test_jobs_do_not_change_the_bytes(s3, bucket: str) -> None:
    _upload_batch(s3, bucket, 24)
    s3.put_object(Bucket=bucket, Key="dags/team0/dup.py", Body=dag_source(5).encode())  # a duplicate dag_id
    for jobs in ("1", "2"):
        result = _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out-{jobs}/", "-j", jobs)
        assert result.exit_code == 1, result.output  # the duplicate refuses both DAGs
    one, two = _keys(s3, bucket, "out-1/"), _keys(s3, bucket, "out-2/")
    assert sorted(k[len("out-1/"):] for k in one) == sorted(k[len("out-2/"):] for k in two)
    for key, etag in one.items():
        assert two["out-2/" + key[len("out-1/"):]] == etag, key  # same ETag: same bytes


def test_interrupted_run_resumes_without_rewriting(s3, bucket: str, request_log: RequestLog, aws_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    ids = _upload_batch(s3, bucket, 120)
    env = {**os.environ, **aws_env, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "dag_converter", "convert", f"s3://{bucket}/dags/",
                                "--output", f"s3://{bucket}/out/", "-j", "1"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    interrupt_after = 30

    def interrupt(method: str, path: str, status: int) -> None:
        # Ctrl-C as soon as the server has stored the 30th YAML: the run is mid-way through its writes.
        if method == "PUT" and path.endswith(".yaml") and request_log.count("PUT", f"/{bucket}/out/etl") == \
                interrupt_after:
            process.send_signal(signal.SIGINT)

    request_log.on_request.append(interrupt)
    _, stderr = process.communicate(timeout=120)
    request_log.on_request.clear()

    assert process.returncode == 2, stderr
    assert "interrupted" in stderr
    written = {k for k in _keys(s3, bucket, "out/") if k.endswith(".yaml")}
    assert interrupt_after <= len(written) < len(ids)
    for key in written:  # every YAML there is complete
        document = yaml.safe_load(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert list(document) == [key[len("out/"):-len(".yaml")]]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"out/{MANIFEST_NAME}")["Body"].read())
    recorded = {out for entry in manifest["sources"].values() for out in entry["outputs"]}
    assert {f"out/{name}" for name in recorded} <= written

    first_puts = request_log.count("PUT", f"/{bucket}/out/etl")
    request_log.clear()
    resumed = _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "-j", "2")

    assert resumed.exit_code == 0, resumed.output
    # Each YAML was put exactly once over both runs: none already written was put again.
    assert first_puts + request_log.count("PUT", f"/{bucket}/out/etl") == len(ids)
    assert request_log.count("GET", f"/{bucket}/dags/") <= len(ids) - len(recorded)
    assert {f"out/{i}.yaml" for i in ids} <= set(_keys(s3, bucket, "out/"))


def test_denied_put_object_fails_those_objects_only(s3, bucket: str, s3_endpoint: str, aws_env: dict[str, str],
                                                    request_log: RequestLog, tmp_path: Path) -> None:
    import boto3
    import requests

    ids = _upload_batch(s3, bucket, 12)
    denied = ids[:3]
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=s3_endpoint)
    user = f"converter-{bucket}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(UserName=user, PolicyName="converter", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:PutObject",
             "Resource": [f"arn:aws:s3:::{bucket}/out/{i}.yaml" for i in denied]},
        ],
    }))
    env = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    # From now on the server checks every request's signature and IAM policy.
    requests.post(f"{s3_endpoint}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    try:
        result = CliRunner(env=env).invoke(main, ["convert", f"s3://{bucket}/dags/", "--output",
                                                  f"s3://{bucket}/out/", "-j", "2", "--report-dir",
                                                  str(tmp_path)], catch_exceptions=False)
    finally:
        requests.post(f"{s3_endpoint}/moto-api/reset-auth", data=b"inf", timeout=10).raise_for_status()

    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "conversion-report.json").read_text(encoding="utf-8"))
    failures = [d for f in report["files"] for dag in f["dags"] for d in dag["diagnostics"] if d["code"] == "DC112"]
    assert len(failures) == len(denied)
    assert all("access denied" in d["message"] and "s3:PutObject" in d["message"] for d in failures)
    assert report["summary"]["converted"] == len(ids) - len(denied)
    outputs = _keys(s3, bucket, "out/")
    assert {f"out/{i}.yaml" for i in ids[3:]} <= set(outputs)
    assert not {f"out/{i}.yaml" for i in denied} & set(outputs)

    # Permission granted: the rerun puts only the three that failed.
    request_log.clear()
    rerun = _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "-j", "2")
    assert rerun.exit_code == 0, rerun.output
    assert request_log.count("PUT", f"/{bucket}/out/etl") == len(denied)


def test_missing_buckets(s3, bucket: str, tmp_path: Path) -> None:
    missing_input = _invoke("s3://no-such-bucket-in/dags/", "--output", str(tmp_path / "out"))
    assert missing_input.exit_code == 2
    assert "DC113" in missing_input.output and "bucket 'no-such-bucket-in' does not exist" in missing_input.output

    _upload_batch(s3, bucket, 3)
    missing_output = _invoke(f"s3://{bucket}/dags/", "--output", "s3://no-such-bucket-out/yaml/",
                             "--report-dir", str(tmp_path / "report"))
    assert missing_output.exit_code == 2  # the report could not be written next to the YAML
    lines = [line for line in missing_output.output.splitlines() if "DC112" in line]
    assert len(lines) == 3 and all("bucket 'no-such-bucket-out' does not exist" in line for line in lines)
    assert (tmp_path / "report" / "conversion-report.md").is_file()


def test_no_credentials(bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = _invoke(f"s3://{bucket}/dags/", "--output", str(tmp_path))
    assert result.exit_code == 2
    assert "no AWS credentials found" in result.output


def test_s3_output_from_a_local_folder_and_bucket_shortcut(s3, bucket: str, tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    for n in range(5):
        (tmp_path / "dags" / f"etl_{n}.py").write_text(dag_source(n), encoding="utf-8")
    s3.create_bucket(Bucket=f"{bucket}-extra")
    result = _invoke(str(tmp_path / "dags"), "--output", f"s3://{bucket}/yaml", "--bucket", f"{bucket}-extra")
    assert result.exit_code == 0, result.output
    assert {f"yaml/etl_{n:03d}.yaml" for n in range(5)} <= set(_keys(s3, bucket, "yaml/"))
    assert set(_keys(s3, f"{bucket}-extra")) == {f"etl_{n:03d}.yaml" for n in range(5)}


@pytest.mark.parametrize(("syntax", "tree", "expected"), [
    # Airflow 3's default: names at any depth, `/`-anchored lines relative to their file, `!` re-includes.
    ("glob", {".airflowignore": "skip_me*\ntmp/\n# comment\n[invalid\n",
              "sub/.airflowignore": "/b.py\n*.py\n!c.py\n"},
     ["a.py", "sub/c.py"]),
    # Airflow's regexp syntax: every line searches the path relative to the DAG folder's root.
    ("regexp", {".airflowignore": "skip_me\n^tmp$\n# comment\n[invalid\n", "sub/.airflowignore": "^sub/b\\.py$\n"},
     ["a.py", "sub/c.py", "sub/deep/b.py", "sub/tmp/y.py"]),
])
def test_airflowignore_matches_a_local_walk(s3, bucket: str, tmp_path: Path, syntax: str, tree: dict[str, str],
                                            expected: list[str]) -> None:
    from dag_converter.storage import open_sources
    from dag_converter.storage.ignore import IgnoreSyntax
    from dag_converter.storage.s3 import discover_s3, make_client

    tree = {
        **tree,
        "a.py": "dag", "skip_me.py": "dag", "tmp/x.py": "dag", "sub/tmp/y.py": "dag",
        "sub/b.py": "dag", "sub/c.py": "dag", "sub/deep/b.py": "dag",
        ".hidden/h.py": "dag", "__pycache__/p.py": "dag", "notes.txt": "dag",
    }
    for name, text in tree.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
        s3.put_object(Bucket=bucket, Key=f"dags/{name}", Body=text.encode())
    local = open_sources([str(tmp_path)], ignore_syntax=IgnoreSyntax(syntax))
    remote, problems = discover_s3(make_client(), f"s3://{bucket}/dags", IgnoreSyntax(syntax))
    assert [p.code for p in problems] == [p.code for p in local.problems] == ["DC120"]  # `[invalid`
    assert sorted(f.relative for f in local.sources) == sorted(s.relative for s in remote) == expected


def test_missing_boto3_says_what_to_install(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['boto3'] = None\n"  # as if the s3 extra were not installed
            "from dag_converter.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code, "convert", "s3://bucket/dags/", "-o", str(tmp_path)],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert 'pip install "dag-converter[s3]"' in result.stderr


def test_check_and_diff_compare_with_s3_output_and_put_nothing(s3, bucket: str, request_log: RequestLog,
                                                               tmp_path: Path) -> None:
    """--check and --diff go through the one driver, so they compare with an s3:// output too
    (before: "work on local paths only", exit 2)."""
    ids = _upload_batch(s3, bucket, 3)
    assert _invoke(f"s3://{bucket}/dags", "-o", f"s3://{bucket}/out").exit_code == 0
    request_log.clear()
    current = _invoke("--check", f"s3://{bucket}/dags", "-o", f"s3://{bucket}/out")
    assert current.exit_code == 0, current.output
    assert "0 YAML files would change, 3 already current, 0 DAGs refused." in current.output

    s3.put_object(Bucket=bucket, Key=f"out/{ids[1]}.yaml", Body=b"# edited by hand\n")
    s3.delete_object(Bucket=bucket, Key=f"out/{ids[2]}.yaml")
    stale = _invoke("--check", f"s3://{bucket}/dags", "-o", f"s3://{bucket}/out")
    assert stale.exit_code == 1, stale.output
    assert f"DC114 [error] s3://{bucket}/out/{ids[1]}.yaml is out of date with DAG {ids[1]}" in stale.output
    assert f"DC115 [error] s3://{bucket}/out/{ids[2]}.yaml does not exist for DAG {ids[2]}" in stale.output
    diff = _invoke("--diff", f"s3://{bucket}/dags", "-o", f"s3://{bucket}/out")
    assert diff.exit_code == 1
    assert f"--- s3://{bucket}/out/{ids[1]}.yaml\n" in diff.stdout and "-# edited by hand\n" in diff.stdout
    assert f"--- /dev/null\n+++ s3://{bucket}/out/{ids[2]}.yaml\n" in diff.stdout
    assert request_log.count("PUT", f"/{bucket}/") == 1  # only the hand edit above: nothing written


def test_bad_s3_url_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(tmp_path), "-o", "s3://"])
    assert result.exit_code == 2
    assert "error: no bucket in s3://" in result.output


def test_prune_removes_an_orphaned_yaml_from_s3_and_check_reports_it(s3, bucket: str) -> None:  # noqa: ANN001
    _upload_batch(s3, bucket, 3)
    s3.put_object(Bucket=bucket, Key="out/notes.yaml", Body=b"ours? no: never written by dag-converter\n")
    assert _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "-j", "1").exit_code == 0
    s3.delete_object(Bucket=bucket, Key="dags/team1/etl_001.py")
    check = _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "--check")
    assert check.exit_code == 1, check.output
    assert (f"s3://{bucket}/dags/team1/etl_001.py:0:0: DC116 [error] s3://{bucket}/out/etl_001.yaml was written "
            f"from s3://{bucket}/dags/team1/etl_001.py, which no longer defines DAG etl_001") in check.output
    pruned = _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "--prune")
    assert pruned.exit_code == 0, pruned.output
    keys = _keys(s3, bucket, "out/")
    assert "out/etl_001.yaml" not in keys
    assert {"out/etl_000.yaml", "out/etl_002.yaml", "out/notes.yaml"} <= set(keys)
    assert _invoke(f"s3://{bucket}/dags/", "--output", f"s3://{bucket}/out/", "--check").exit_code == 0


def test_helper_modules_data_and_template_files_read_from_s3_as_locally(s3, bucket: str, tmp_path: Path) -> None:
    """A DAG importing common/settings.py, reading a JSON file and naming a template file converts
    from S3 to the same YAML as from the local folder (issue 22)."""
    tree = {
        "common/__init__.py": "",
        "common/settings.py": 'BUCKET = "example-settings-bucket"\n',
        "team/tables.json": '{"name": "orders"}',
        "team/sql/q.sql": "select '{{ ds }}'\n",
        "team/etl.py": '''\
import json
import os
from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator

from common.settings import BUCKET

TABLE = json.load(open(os.path.join(os.path.dirname(__file__), "tables.json")))["name"]

with DAG(dag_id=f"etl_{TABLE}_{os.path.basename(__file__)[:-3]}", start_date=datetime(2024, 1, 1), schedule=None):
    S3CreateBucketOperator(task_id="create", bucket_name=BUCKET)
    AthenaOperator(task_id="query", query="sql/q.sql", database="d", output_location="s3://o/")
''',
    }
    local_root = tmp_path / "dags"
    for name, text in tree.items():
        (local_root / name).parent.mkdir(parents=True, exist_ok=True)
        (local_root / name).write_text(text, encoding="utf-8")
        s3.put_object(Bucket=bucket, Key=f"dags/{name}", Body=text.encode())
    # --jobs 1: in this process, whose environment holds the test's credentials (a worker forked from a
    # forkserver started by an earlier test would not); S3Folder's pickling is tested below.
    local = _invoke("convert", str(local_root), "-o", str(tmp_path / "local"), "--report-format", "none", "--jobs", "1")
    remote = _invoke("convert", f"s3://{bucket}/dags", "-o", str(tmp_path / "remote"), "--report-format", "none",
                     "--jobs", "1")
    assert local.exit_code == remote.exit_code == 0, (local.output, remote.output)
    written = (tmp_path / "local" / "etl_orders_etl.yaml").read_text(encoding="utf-8")
    assert "example-settings-bucket" in written and "select '{{ ds }}'" in written
    assert (tmp_path / "remote" / "etl_orders_etl.yaml").read_text(encoding="utf-8") == written


def test_s3_folder_answers_from_the_listing_and_pickles_without_its_client(s3, bucket: str) -> None:
    import pickle

    from dag_converter.storage.s3 import discover_s3, make_client

    s3.put_object(Bucket=bucket, Key="dags/common/settings.py", Body=b"X = 1\n")
    s3.put_object(Bucket=bucket, Key="dags/d.py", Body=b"from airflow import DAG\n")
    s3.put_object(Bucket=bucket, Key="dags/data/big.json", Body=b"[" + b"1," * 100 + b"1]")
    sources, problems = discover_s3(make_client(), f"s3://{bucket}/dags")
    assert not problems
    source = next(s for s in sources if s.relative == "d.py")
    folder = pickle.loads(pickle.dumps(source.root))
    assert folder._client is None  # type: ignore[union-attr]
    assert [folder.kind(p) for p in ("common", "common/settings.py", "data", "nothing", "d.py")] == \
        ["dir", "file", "dir", None, "file"]
    assert folder.read("common/settings.py", 100) == b"X = 1\n"
    assert "larger than" in folder.read("data/big.json", 100)
    assert "does not exist" in folder.read("common/other.py", 100)
    assert folder.version("common/settings.py") != folder.version("d.py") != ""
