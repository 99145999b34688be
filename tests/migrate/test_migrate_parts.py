"""The pure parts of migrate: reading GetEnvironment's answer, what is carried over, names, import errors,
and the fake environment's own checks (an answer outside the Airflow OpenAPI schema is caught)."""

from __future__ import annotations

import pytest

from dag_converter.migrate.adapters import ROLE_NAME_MAX, role_name
from dag_converter.migrate.carry import BACKEND, BACKEND_KWARGS, carry, requirement_lines
from dag_converter.migrate.source import AirflowState, ImportError_, parse_environment
from migrate.fake_mwaa_env import dag_response, openapi_problems

ENVIRONMENT = {
    "Name": "prod", "Arn": "arn:aws:airflow:eu-west-1:123456789012:environment/prod",
    "SourceBucketArn": "arn:aws:s3:::my-env-bucket", "DagS3Path": "/dags/", "KmsKey": "alias/airflow",
    "NetworkConfiguration": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
    "Tags": {"aws:cloudformation:stack-name": "s", "team": "data"},
    "AirflowConfigurationOptions": {"secrets.backend": "a.B", "workers.secrets_backend": "c.D",
                                    "secrets.backend_kwargs": "{}", "webserver.x": "1"},
    "RequirementsS3Path": "requirements.txt", "RequirementsS3ObjectVersion": "v1",
}


def test_parse_environment_takes_the_bucket_folder_and_place() -> None:
    environment = parse_environment(ENVIRONMENT)
    assert (environment.bucket, environment.dag_path, environment.dags_url) == \
        ("my-env-bucket", "dags", "s3://my-env-bucket/dags/")
    assert environment.place() == ("aws", "eu-west-1", "123456789012")
    assert environment.requirements is not None and environment.requirements.version == "v1"
    with pytest.raises(ValueError, match="SourceBucketArn"):
        parse_environment({**ENVIRONMENT, "SourceBucketArn": ""})


def test_carry_maps_the_secrets_backend_and_drops_aws_tags() -> None:
    carried = carry(parse_environment(ENVIRONMENT))
    assert dict(carried.variables) == {BACKEND: "c.D", BACKEND_KWARGS: "{}"}  # workers.* wins
    assert carried.tags == (("team", "data"),)
    assert carried.not_carried == ("webserver.x",) and carried.problems == ()


def test_a_secrets_value_over_the_service_limit_is_a_plan_problem() -> None:
    options = {"secrets.backend_kwargs": '{"k": "' + "x" * 300 + '"}'}
    carried = carry(parse_environment({**ENVIRONMENT, "AirflowConfigurationOptions": options}))
    assert len(carried.problems) == 1 and BACKEND_KWARGS in carried.problems[0]


def test_role_names_are_valid_iam_names() -> None:
    assert role_name("mwaa-serverless-", "etl.daily") == "mwaa-serverless-etl.daily"
    long = role_name("mwaa-serverless-", "d" * 100)
    assert len(long) == ROLE_NAME_MAX and long != role_name("mwaa-serverless-", "d" * 99)


def test_import_errors_match_by_relative_or_absolute_path() -> None:
    state = AirflowState(import_errors=[ImportError_("/usr/local/airflow/dags/team/a.py", "boom")])
    assert state.import_error_for("team/a.py") is not None
    assert state.import_error_for("a.py") is None and state.import_error_for("other/team/a.py") is None


def test_requirement_lines_drop_comments_and_options() -> None:
    assert requirement_lines("# c\n-r other.txt\npandas==2 # pinned\n\n--index-url x\nboto3\n") == ("pandas==2", "boto3")


def test_the_fake_checks_its_canned_answers_against_the_airflow_schema() -> None:
    good = dag_response("etl", "/usr/local/airflow/dags/etl.py")
    assert openapi_problems(good, {"$ref": "#/components/schemas/DAGResponse"}) == []
    bad = {**good, "is_paused": "no"}
    del bad["fileloc"]
    assert len(openapi_problems(bad, {"$ref": "#/components/schemas/DAGResponse"})) == 2


def test_a_package_takes_the_environment_s_pins_of_what_it_imports() -> None:
    from dag_converter.migrate.adapters import distribution, package_plan
    from dag_converter.model import PackageOutput

    # convert pinned the package's requirements.txt with the environment's file: the plan shows what it holds
    text = "# header\n# more\nnetworkx==3.4.2  # networkx (dags/a.py:3)\npyyaml-extra  # yaml_extra (dags/a.py:4)\n"
    package = PackageOutput("a.code.zip", b"zip", (("a_tasks.py", "generated"),), text, "pip ...")
    planned = package_plan(package, b"zip", "s3://b/p/a.code.zip", ("NetworkX==3.4.2", "pandas>=2"))
    assert planned.requirements == ("networkx==3.4.2", "pyyaml-extra")
    assert planned.not_in_environment == ("pyyaml-extra",)
    assert (planned.size, planned.files) == (3, 1)
    # no readable requirements file: nothing is said to be missing from it
    assert package_plan(package, b"zip", "s3://b/p/a.code.zip", None).not_in_environment == ()
    assert distribution("apache_airflow.Providers-x[extra]>=1") == "apache-airflow-providers-x"
    assert distribution("  ") is None
