"""`dag-converter deploy` run as a subprocess against moto's S3 and the model-checked fake MWAA
Serverless (fake_mwaa.py): what it creates, what a rerun does not do, and how failures show."""

from __future__ import annotations

import json

import pytest

from deploy.conftest import DAG_LINE, ROLE, Project, dag_file, run_cli
from deploy.fake_mwaa import Fault, FakeMwaaServerless

DIGEST = "dag-converter:definition-sha256"


def puts(request_log) -> int:  # noqa: ANN001
    return request_log.count("PUT", "/test-bucket-")


def test_first_deploy_creates_each_workflow_with_its_members(project: Project, mwaa: FakeMwaaServerless,
                                                             request_log, bucket: str, s3) -> None:  # noqa: ANN001
    result = project.deploy("--log-group", "/aws/mwaa-serverless/etl", "--subnet", "subnet-0abc",
                            "--security-group", "sg-0def", "--kms-key", "alias/workflows", "--tag", "env=prod",
                            "--trigger-mode", "Manual", "--name-prefix", "wf-")
    assert result.returncode == 0, result.stderr
    assert sorted(w.name for w in mwaa.workflows.values()) == ["wf-etl_a", "wf-etl_b", "wf-etl_c"]
    assert mwaa.count("CreateWorkflow") == 3 and mwaa.count("UpdateWorkflow") == 0
    assert puts(request_log) == 3
    created = mwaa.by_name("wf-etl_a").versions[0]
    versions = s3.list_object_versions(Bucket=bucket, Prefix="workflows/etl_a.yaml")["Versions"]
    assert created["DefinitionS3Location"] == {"Bucket": bucket, "ObjectKey": "workflows/etl_a.yaml",
                                               "VersionId": versions[0]["VersionId"]}
    assert created["RoleArn"] == ROLE
    assert created["Description"] == "Loads etl_a"
    assert created["LoggingConfiguration"] == {"LogGroupName": "/aws/mwaa-serverless/etl"}
    assert created["NetworkConfiguration"] == {"SubnetIds": ["subnet-0abc"], "SecurityGroupIds": ["sg-0def"]}
    assert created["EncryptionConfiguration"] == {"Type": "CUSTOMER_MANAGED_KEY", "KmsKeyId": "alias/workflows"}
    assert created["TriggerMode"] == "Manual"
    assert "etl_a:" in created["Snapshot"]
    tags = mwaa.by_name("wf-etl_a").tags
    assert tags["env"] == "prod" and tags["team:data"] == "" and len(tags[DIGEST]) == 64
    version = mwaa.by_name("wf-etl_a").versions[0]["WorkflowVersion"]
    assert f"dags/etl_a.py:6:0: DC612 [info] workflow 'wf-etl_a' created (version {version})" in result.stderr
    assert "3 created, 0 updated, 0 unchanged, 0 deleted, 0 failed, 0 refused; 3 definitions uploaded." in result.stderr


def test_rerun_makes_no_mutating_call_and_one_change_makes_one_update(project: Project, mwaa: FakeMwaaServerless,
                                                                      request_log) -> None:  # noqa: ANN001
    assert project.deploy().returncode == 0
    mwaa.calls.clear()
    request_log.clear()
    again = project.deploy()
    assert again.returncode == 0, again.stderr
    assert mwaa.mutating_calls() == []
    assert puts(request_log) == 0
    assert "0 created, 0 updated, 3 unchanged" in again.stderr

    project.write_dag("etl_b.py", dag_file("etl_b", description="Loads etl_b, now hourly"))
    assert project.convert().returncode == 0
    mwaa.calls.clear()
    request_log.clear()
    changed = project.deploy()
    assert changed.returncode == 0, changed.stderr
    assert mwaa.count("UpdateWorkflow") == 1 and mwaa.count("CreateWorkflow") == 0
    assert puts(request_log) == 1
    updated = mwaa.by_name("etl_b")
    assert len(updated.versions) == 2 and updated.versions[-1]["Description"] == "Loads etl_b, now hourly"
    assert len(mwaa.by_name("etl_a").versions) == 1
    assert (f"dags/etl_b.py:6:0: DC612 [info] workflow 'etl_b' updated (version {updated.versions[-1]['WorkflowVersion']}): "
            "definition changed, settings changed") in changed.stderr
    assert sum(1 for line in changed.stderr.splitlines() if "DC612" in line) == 1


def test_plan_changes_nothing(project: Project, mwaa: FakeMwaaServerless, request_log) -> None:  # noqa: ANN001
    plan = project.deploy("--plan")
    assert plan.returncode == 0, plan.stderr
    assert "create    etl_a (dags/etl_a.py:6)" in plan.stdout
    assert "3 to create, 0 to update, 0 to delete, 0 unchanged." in plan.stdout
    assert mwaa.mutating_calls() == [] and puts(request_log) == 0 and not mwaa.workflows

    assert project.deploy().returncode == 0
    project.write_dag("etl_c.py", dag_file("etl_c", description="changed"))
    assert project.convert().returncode == 0
    mwaa.calls.clear()
    request_log.clear()
    as_json = project.deploy("--plan", "--output-format", "json")
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)["plan"]
    assert [(s["name"], s["reasons"], s["line"]) for s in document["updates"]] == [
        ("etl_c", ["definition changed", "settings changed"], DAG_LINE)]
    assert sorted(s["name"] for s in document["unchanged"]) == ["etl_a", "etl_b"]
    assert document["creates"] == [] and document["deletes"] == []
    assert mwaa.mutating_calls() == [] and puts(request_log) == 0


def test_prune_deletes_only_our_workflows_whose_dag_is_gone(project: Project, mwaa: FakeMwaaServerless) -> None:
    assert project.deploy().returncode == 0
    foreign = mwaa.add("etl_z")  # made in the console: no dag-converter tags
    other = mwaa.add("etl_y", {DIGEST: "0" * 64, "dag-converter:definitions": "s3://elsewhere/wf/"})
    (project.root / "dags" / "etl_b.py").unlink()
    assert project.convert().returncode == 0
    plan = project.deploy("--prune", "--plan")
    assert "delete    etl_b: its DAG is no longer converted" in plan.stdout, plan.stdout
    mwaa.calls.clear()
    pruned = project.deploy("--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert mwaa.mutating_calls() == ["DeleteWorkflow"]
    assert ("out/conversion-manifest.json:0:0: DC612 [info] workflow 'etl_b' deleted: its DAG is no longer converted"
            in pruned.stderr)
    assert sorted(w.name for w in mwaa.workflows.values()) == ["etl_a", "etl_c", "etl_y", "etl_z"]
    assert foreign.arn in mwaa.workflows and other.arn in mwaa.workflows


def test_invalid_name_is_refused_before_any_call(project: Project, mwaa: FakeMwaaServerless) -> None:
    project.write_dag("under.py", dag_file("_under"))
    assert project.convert().returncode == 0  # Airflow accepts the id; the service does not
    result = project.deploy()
    assert result.returncode == 1
    assert (f"dags/under.py:{DAG_LINE}:0: DC601 [error] DAG '_under' cannot be deployed as workflow '_under': "
            "it starts with '_'") in result.stderr
    assert len([line for line in result.stderr.splitlines() if "[error]" in line]) == 1
    assert not any(r.get("Name") == "_under" for _, r, _ in mwaa.calls)
    assert sorted(w.name for w in mwaa.workflows.values()) == ["etl_a", "etl_b", "etl_c"]


def test_validation_error_with_field_list(project: Project, mwaa: FakeMwaaServerless) -> None:
    # reviewed by hand into something that is not a workflow definition
    (project.root / "out" / "etl_b.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    result = project.deploy()
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "[error]" in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"dags/etl_b.py:{DAG_LINE}:0: DC602 [error] CreateWorkflow of workflow 'etl_b' "
                                "rejected (fieldValidationFailed)")
    assert "[DefinitionS3Location: expected one DAG id mapped to its definition]" in errors[0]
    assert "hint: fix DefinitionS3Location and deploy again" in result.stderr
    assert sorted(w.name for w in mwaa.workflows.values()) == ["etl_a", "etl_c"]


def test_throttling_is_retried_then_reported(project: Project, mwaa: FakeMwaaServerless) -> None:
    mwaa.faults = [Fault("CreateWorkflow", "ThrottlingException", name="etl_a", times=2),
                   Fault("CreateWorkflow", "ThrottlingException", name="etl_c", times=99)]
    result = project.deploy()
    assert result.returncode == 1
    assert sum(1 for op, r, _ in mwaa.calls if op == "CreateWorkflow" and r["Name"] == "etl_c") == 5
    errors = [line for line in result.stderr.splitlines() if "[error]" in line]
    assert errors == [f"dags/etl_c.py:{DAG_LINE}:0: DC604 [error] CreateWorkflow of workflow 'etl_c' still "
                      "throttled after 5 attempts"]
    assert "hint: run the same deploy again later; quota L-CREATE-RATE" in result.stderr
    assert (f"dags/etl_a.py:{DAG_LINE}:0: DC610 [info] CreateWorkflow of workflow 'etl_a' was throttled 2 time(s) "
            "and succeeded on retry") in result.stderr
    assert sorted(w.name for w in mwaa.workflows.values()) == ["etl_a", "etl_b"]


def test_conflict_when_someone_else_creates_the_name(project: Project, mwaa: FakeMwaaServerless) -> None:
    mwaa.faults = [Fault("CreateWorkflow", "", name="etl_b", before=lambda fake: fake.add("etl_b"))]
    result = project.deploy()
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "[error]" in line]
    rival = mwaa.by_name("etl_b")
    assert errors == [f"dags/etl_b.py:{DAG_LINE}:0: DC603 [error] CreateWorkflow of workflow 'etl_b' conflicts with "
                      f"{rival.arn}: workflow etl_b already exists"]
    assert mwaa.by_name("etl_a") is not None and mwaa.by_name("etl_c") is not None


def test_access_denied(project: Project, mwaa: FakeMwaaServerless) -> None:
    mwaa.faults = [Fault("CreateWorkflow", "AccessDeniedException", name="etl_a")]
    result = project.deploy()
    assert result.returncode == 1
    assert f"dags/etl_a.py:{DAG_LINE}:0: DC605 [error] CreateWorkflow of workflow 'etl_a' denied" in result.stderr
    assert "hint: grant airflow-serverless:CreateWorkflow to the identity running deploy" in result.stderr
    assert sorted(w.name for w in mwaa.workflows.values()) == ["etl_b", "etl_c"]


def test_exact_name_match_across_pages(project: Project, mwaa: FakeMwaaServerless) -> None:
    for name in ("etl_a_v2", "x1", "x2", "x3", "etl"):
        mwaa.add(name)
    result = project.deploy("--start")
    assert result.returncode == 0, result.stderr
    assert mwaa.count("ListWorkflows") == 3  # 5 workflows, pages of 2
    assert mwaa.count("CreateWorkflow") == 3 and mwaa.count("StartWorkflowRun") == 3
    assert len(mwaa.by_name("etl_a_v2").versions) == 1


@pytest.mark.parametrize("flags, message", [
    (("--role-arn", "role/etl"), "--role-arn 'role/etl': does not match RoleARN's pattern"),
    (("--subnet", "net-1"), "--subnet 'net-1': does not match SubnetString's pattern"),
    (("--tag", "novalue"), "--tag 'novalue': use KEY=VALUE"),
    (("--name-prefix", "_x-"), "--name-prefix '_x-': it starts with '_'"),
    (("--plan", "--start"), "--start changes workflows; it cannot go with --plan"),
])
def test_bad_settings_stop_before_any_call(project: Project, mwaa: FakeMwaaServerless, flags: tuple[str, ...],
                                           message: str) -> None:
    result = project.deploy(*flags)
    assert result.returncode == 2
    assert message in result.stderr
    assert mwaa.calls == []


def test_settings_from_the_projects_pyproject(project: Project, mwaa: FakeMwaaServerless, bucket: str) -> None:
    (project.root / "pyproject.toml").write_text(
        '[tool.dag-converter]\noutput = "out"\n\n'
        f'[tool.dag-converter.deploy]\nrole-arn = "{ROLE}"\ndefinitions = "s3://{bucket}/wf/"\n'
        'name-prefix = "team-"\nlog-group = "/wf"\ntags = {cost-center = "42"}\n', encoding="utf-8")
    # configuration never comes from the folders being converted or deployed
    (project.root / "out" / "pyproject.toml").write_text(
        '[tool.dag-converter.deploy]\nrole-arn = "arn:aws:iam::999999999999:role/evil"\n', encoding="utf-8")
    assert project.convert().returncode == 0  # convert reads the same file and leaves the deploy table alone
    result = run_cli("deploy", "out", cwd=project.root, env=project.env)
    assert result.returncode == 0, result.stderr
    assert sorted(w.name for w in mwaa.workflows.values()) == ["team-etl_a", "team-etl_b", "team-etl_c"]
    created = mwaa.by_name("team-etl_a")
    assert created.versions[0]["RoleArn"] == ROLE
    assert created.versions[0]["DefinitionS3Location"]["ObjectKey"] == "wf/etl_a.yaml"
    assert created.versions[0]["LoggingConfiguration"] == {"LogGroupName": "/wf"}
    assert created.tags["cost-center"] == "42"
    flagged = run_cli("deploy", "out", "--name-prefix", "team-", "--log-group", "/other", "--plan", cwd=project.root,
                      env=project.env)
    assert "update    team-etl_a (dags/etl_a.py:6): settings changed" in flagged.stdout  # a flag wins over the file


def test_output_folder_in_s3_is_deployed_where_it_is(project: Project, mwaa: FakeMwaaServerless, bucket: str, s3,
                                                     request_log) -> None:  # noqa: ANN001
    converted = run_cli("convert", "dags", "--output", f"s3://{bucket}/converted/", cwd=project.root, env=project.env)
    assert converted.returncode == 0, converted.stderr
    request_log.clear()
    result = run_cli("deploy", f"s3://{bucket}/converted/", "--role-arn", ROLE, cwd=project.root, env=project.env)
    assert result.returncode == 0, result.stderr
    assert puts(request_log) == 0
    location = mwaa.by_name("etl_c").versions[0]["DefinitionS3Location"]
    head = s3.head_object(Bucket=bucket, Key="converted/etl_c.yaml")
    assert location == {"Bucket": bucket, "ObjectKey": "converted/etl_c.yaml", "VersionId": head["VersionId"]}
    assert run_cli("deploy", f"s3://{bucket}/converted/", "--role-arn", ROLE, cwd=project.root,
                   env=project.env).returncode == 0
    assert mwaa.count("CreateWorkflow") == 3 and mwaa.count("UpdateWorkflow") == 0


def test_missing_manifest_is_a_usage_error(project: Project, mwaa: FakeMwaaServerless) -> None:
    (project.root / "out" / "conversion-manifest.json").unlink()
    result = project.deploy()
    assert result.returncode == 2
    assert "run dag-converter convert first" in result.stderr
    assert mwaa.calls == []


def test_a_manifest_of_an_older_layout_asks_for_a_convert_run(project: Project, mwaa: FakeMwaaServerless) -> None:
    manifest = project.root / "out" / "conversion-manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"manifest_version": 2', '"manifest_version": 1'),
                        encoding="utf-8")
    result = project.deploy()
    assert result.returncode == 2
    assert "written by another version of dag-converter (layout 1" in result.stderr
    assert "run dag-converter convert again first" in result.stderr
    assert mwaa.calls == []


def test_deleted_yaml_is_reported_at_its_dag(project: Project, mwaa: FakeMwaaServerless) -> None:
    (project.root / "out" / "etl_a.yaml").unlink()
    result = project.deploy()
    assert result.returncode == 1
    assert f"dags/etl_a.py:{DAG_LINE}:0: DC608 [error] the YAML of DAG 'etl_a' (etl_a.yaml) cannot be read" in result.stderr
    assert sorted(w.name for w in mwaa.workflows.values()) == ["etl_b", "etl_c"]


def test_a_manifest_never_makes_deploy_read_outside_the_output_folder(project: Project,
                                                                      mwaa: FakeMwaaServerless) -> None:
    (project.root / "secret.yaml").write_text("etl_a:\n  tasks: {}\n", encoding="utf-8")
    manifest = project.root / "out" / "conversion-manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"output":"etl_a.yaml"',
                                                                     '"output":"../secret.yaml"'), encoding="utf-8")
    result = project.deploy()
    assert result.returncode == 1
    assert "DC608 [error] the YAML of DAG 'etl_a' (../secret.yaml) cannot be read: '../secret.yaml' is not a path " \
           "below the output folder" in result.stderr
    assert sorted(w.name for w in mwaa.workflows.values()) == ["etl_b", "etl_c"]


def test_kms_key_applies_on_create_and_warns_for_existing_workflows(project: Project,
                                                                     mwaa: FakeMwaaServerless) -> None:
    assert project.deploy().returncode == 0
    project.write_dag("etl_d.py", dag_file("etl_d"))
    assert project.convert().returncode == 0
    mwaa.calls.clear()
    result = project.deploy("--kms-key", "alias/new")
    assert result.returncode == 0, result.stderr
    assert mwaa.mutating_calls() == ["CreateWorkflow"]  # the existing three are unchanged: kms is not a setting they take
    assert mwaa.by_name("etl_d").versions[0]["EncryptionConfiguration"] == {"Type": "CUSTOMER_MANAGED_KEY",
                                                                            "KmsKeyId": "alias/new"}
    warnings = [line for line in result.stderr.splitlines() if "DC611" in line]
    assert warnings[0] == (f"dags/etl_a.py:{DAG_LINE}:0: DC611 [warning] workflow 'etl_a' stays encrypted with "
                           "AWS_MANAGED_KEY; --kms-key alias/new applies only when a workflow is created")
    assert len(warnings) == 3


def test_service_warnings_are_shown_and_do_not_fail(project: Project, mwaa: FakeMwaaServerless) -> None:
    mwaa.warnings["etl_c"] = ["start_date is in the past"]
    result = project.deploy("--output-format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [(d["code"], d["severity"], d["message"]) for d in document["diagnostics"] if d["code"] != "DC612"] == [
        ("DC607", "warning", "CreateWorkflow of workflow 'etl_c': the service warns: start_date is in the past")]
    assert [(r["name"], r["action"], r["ok"]) for r in document["results"]] == [
        ("etl_a", "create", True), ("etl_b", "create", True), ("etl_c", "create", True)]
    assert all(r["arn"].startswith("arn:aws:airflow-serverless:") for r in document["results"])


def test_quota_and_too_many_tags(project: Project, mwaa: FakeMwaaServerless) -> None:
    project.write_dag("tagged.py", dag_file("tagged", tags=tuple(f"t{n}" for n in range(60))))
    assert project.convert().returncode == 0
    mwaa.faults = [Fault("CreateWorkflow", "ServiceQuotaExceededException", name="etl_a",
                         members={"ResourceId": "", "ResourceType": "Workflow", "ServiceCode": "airflow-serverless",
                                  "QuotaCode": "L-WORKFLOWS"})]
    result = project.deploy()
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "[error]" in line]
    assert errors == [
        f"dags/etl_a.py:{DAG_LINE}:0: DC606 [error] CreateWorkflow of workflow 'etl_a' failed: "
        "ServiceQuotaExceededException: injected ServiceQuotaExceededException",
        f"dags/tagged.py:{DAG_LINE}:0: DC609 [error] DAG 'tagged' cannot be deployed: 63 tags (its DAG tags, --tag and "
        "dag-converter's 3); a workflow takes at most 50"]
    assert sorted(w.name for w in mwaa.workflows.values()) == ["etl_b", "etl_c"]
