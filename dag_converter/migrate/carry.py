"""What a workflow takes over from the source environment.

- Network: `NetworkConfiguration{SubnetIds, SecurityGroupIds}` as it is.
- Encryption: the environment's `KmsKey` becomes `EncryptionConfiguration{CUSTOMER_MANAGED_KEY, KmsKeyId}`
  when a workflow is created (it cannot change afterwards).
- Tags: the environment's tags, except `aws:*`.
- Secrets backend: the only `AIRFLOW__*` environment variables MWAA Serverless accepts are
  `AIRFLOW__WORKERS__SECRETS_BACKEND`, `..._KWARGS` and `..._KWARG__*` (the model's
  EnvironmentVariablesMap documentation, botocore 1.44.8); values are at most 255 characters. The
  environment's `secrets.backend` / `secrets.backend_kwargs` (or Airflow 3's `workers.secrets_backend` /
  `workers.secrets_backend_kwargs`, which win) become the first two.
Every other Airflow configuration option is listed in the plan as not carried over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from dag_converter.migrate.source import Environment

BACKEND: Final = "AIRFLOW__WORKERS__SECRETS_BACKEND"
BACKEND_KWARGS: Final = "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS"
VALUE_MAX: Final = 255  #: EnvironmentVariableValue max
#: configuration option -> variable; later entries win over earlier ones for the same variable
SECRETS_OPTIONS: Final = (("secrets.backend", BACKEND), ("secrets.backend_kwargs", BACKEND_KWARGS),
                          ("workers.secrets_backend", BACKEND), ("workers.secrets_backend_kwargs", BACKEND_KWARGS))


@dataclass(frozen=True, slots=True)
class Carried:
    """The environment's settings as every workflow of the migration gets them."""

    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    kms_key: str | None
    tags: tuple[tuple[str, str], ...]
    variables: tuple[tuple[str, str], ...]  #: Environment.Variables
    not_carried: tuple[str, ...]  #: configuration options left behind
    problems: tuple[str, ...]  #: why no workflow can be deployed with these settings


def carry(environment: Environment) -> Carried:
    variables: dict[str, str] = {}
    problems: list[str] = []
    sources = {option for option, _ in SECRETS_OPTIONS}
    options = dict(environment.options)
    for option, variable in SECRETS_OPTIONS:
        if option in options and options[option].strip():
            variables[variable] = options[option].strip()
    for variable, value in sorted(variables.items()):
        if len(value) > VALUE_MAX:
            problems.append(f"{variable} would be {len(value)} characters; a workflow variable takes at most "
                            f"{VALUE_MAX}: shorten the secrets backend settings of the environment")
    return Carried(environment.subnets, environment.security_groups, environment.kms_key,
                   tuple((k, v) for k, v in environment.tags if not k.startswith("aws:")),
                   tuple(sorted(variables.items())), tuple(sorted(set(options) - sources)), tuple(problems))


def requirement_lines(text: str, limit: int = 500) -> tuple[str, ...]:
    """The requirement lines of a requirements.txt (comments, blank lines and pip options dropped)."""
    found: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found.append(line)
        if len(found) >= limit:
            break
    return tuple(found)


__all__ = ["BACKEND", "BACKEND_KWARGS", "Carried", "carry", "requirement_lines"]
