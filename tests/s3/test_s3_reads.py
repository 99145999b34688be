"""From S3, a rerun converts a DAG file again when an object of its DAG folder that its conversion
read or looked for changed, vanished or appeared; the versions are the listing's ETags, so the
rerun's check costs no request beyond the listing (issue 22)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dag_converter.batch.manifest import MANIFEST_NAME
from tests.batch._folder_edits import EDITS, TREE, run, spy_conversions, write_tree
from tests.s3.conftest import RequestLog


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return spy_conversions(monkeypatch)


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edit_to_an_object_reconverts_exactly_its_dependants(s3, bucket: str, s3_endpoint: str,  # noqa: ANN001
                                                                tmp_path: Path, converted: list[str],
                                                                request_log: RequestLog, edit: str) -> None:
    def put(name: str, text: str) -> None:
        s3.put_object(Bucket=bucket, Key=f"dags/{name}", Body=text.encode())

    write_tree(put, TREE)
    location, out = f"s3://{bucket}/dags", str(tmp_path / "out")
    assert run(location, out, converted, endpoint_url=s3_endpoint) >= {n for n in TREE if n.endswith("_dag.py")}
    request_log.clear()
    assert run(location, out, converted, endpoint_url=s3_endpoint) == set()
    assert request_log.count("GET", f"/{bucket}/dags/") == 0  # the listing answers: no object is read
    files, dependants, (dag_id, expected) = EDITS[edit]
    before = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.yaml")}
    write_tree(put, files)
    assert run(location, out, converted, endpoint_url=s3_endpoint) - {n for n in files if n.endswith(".py")} == \
        dependants
    after = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.yaml")}
    assert {name for name in after if before.get(name) != after[name]} == ({f"{dag_id}.yaml"} if dag_id else set())
    if dag_id:
        assert expected in after[f"{dag_id}.yaml"]
    assert run(location, out, converted, endpoint_url=s3_endpoint) == set()


def test_a_deleted_object_reconverts_its_dependant_and_versions_are_etags(s3, bucket: str,  # noqa: ANN001
                                                                         s3_endpoint: str, tmp_path: Path,
                                                                         converted: list[str]) -> None:
    write_tree(lambda name, text: s3.put_object(Bucket=bucket, Key=f"dags/{name}", Body=text.encode()), TREE)
    location, out = f"s3://{bucket}/dags", str(tmp_path / "out")
    run(location, out, converted, endpoint_url=s3_endpoint)
    entry = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text(encoding="utf-8"))["sources"][
        f"{location}/helper_dag.py"]
    etag = s3.head_object(Bucket=bucket, Key="dags/common/settings.py")["ETag"].strip('"')
    assert entry["reads"]["common/settings.py"] == f"etag:{etag}"
    assert entry["reads"]["common.py"] == "missing"
    s3.delete_object(Bucket=bucket, Key="dags/common/settings.py")
    assert run(location, out, converted, endpoint_url=s3_endpoint) == {"helper_dag.py"}
