"""Where migrate meets the product's roles and code packages, kept small.

- Roles: convert derives each converted DAG's role (`convert --iam`, batch/roles.py) and writes
  `<dag_id>.iam.json` beside its YAML; migrate reads that file and plans and applies it with deploy's
  `Roles` (what `deploy --create-roles` does): one derivation, one create-or-update, no copy here.
- Code packages: convert with `--code-package` (target `mwaa-serverless-code`) writes
  `<dag_id>.code.zip` beside the YAML; deploy sends it as `Code.S3Location`. Here the plan's view of a
  package: its name, size, digest and requirements, pinned by the environment's requirements file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from dag_converter.model import DagResult, PackageOutput

if TYPE_CHECKING:
    from dag_converter.deploy.roles import Roles, WantedRole

ROLE_NAME_MAX: Final = 64  #: IAM RoleName: 1-64 of [\w+=,.@-]
_ROLE_CHARS: Final = re.compile(r"[^A-Za-z0-9_+=,.@-]")
#: codes that mean "this DAG's tasks run Python the YAML cannot name": a code package ships it
CODE_PACKAGE_CODES: Final = frozenset({"DC312", *(f"DC34{n}" for n in range(10))})
#: a requirement line's distribution name (PEP 508: letters, digits, `.`, `_`, `-`)
_DISTRIBUTION: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def role_name(prefix: str, dag_id: str) -> str:
    """`prefix + dag_id`, made a valid IAM role name; a long one keeps a digest of the whole."""
    name = _ROLE_CHARS.sub("-", prefix + dag_id)
    if len(name) > ROLE_NAME_MAX:
        tail = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = name[:ROLE_NAME_MAX - 9] + "-" + tail
    return name


def wanted_role(dag: DagResult, name: str, workflow: str, read: Callable[[str], bytes]) -> "WantedRole":
    """The role `convert --iam` derived for `dag`, from its `<dag_id>.iam.json` read with `read`
    (OSError when missing, ValueError when it is not a role document)."""
    from dag_converter.batch.roles import role_name as role_file
    from dag_converter.deploy.roles import WantedRole, read_role_file

    assert dag.output_name is not None
    file = role_file(dag.dag_id, dag.output_name)
    try:
        trust, policy = read_role_file(read(file))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{file}: not UTF-8") from exc
    return WantedRole(name, dag.dag_id, workflow, file, dag.workflow.span, trust, policy)


def make_roles(endpoint_url: str | None, place: tuple[str, str, str]) -> "Roles":
    """deploy's IAM side, on `endpoint_url` (else boto3's resolution: AWS_ENDPOINT_URL_IAM, ...); the
    account of the environment's ARN names the roles still to create (STS only when it is unknown)."""
    import boto3
    from botocore.config import Config

    from dag_converter.deploy.roles import Roles

    session = boto3.session.Session()
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    partition, _, account = place
    caller = (partition, account) if account != "*" else None
    return Roles(session.client("iam", endpoint_url=endpoint_url or None, config=config),
                 session.client("sts", endpoint_url=endpoint_url or None, config=config), caller=caller)


def needs_code_package(dag: DagResult) -> tuple[str, ...]:
    """The findings that refused `dag` because its Python needs a code package (empty: none): the
    package's own codes, and the refusals whose hint says `--code-package` would carry the task."""
    return tuple(f"{d.code} {d.message}" for d in dag.diagnostics
                 if d.code in CODE_PACKAGE_CODES or (d.hint is not None and "--code-package" in d.hint))


def distribution(line: str) -> str | None:
    """The canonical (PEP 503) distribution name a requirement line starts with."""
    match = _DISTRIBUTION.match(line.strip())
    return re.sub(r"[-_.]+", "-", match[0]).lower() if match else None


@dataclass(frozen=True, slots=True)
class PackagePlan:
    """A DAG's code package as the plan shows it."""

    name: str  #: `<dag_id>.code.zip`, beside the YAML
    url: str  #: where --apply puts it
    size: int
    sha256: str
    files: int
    requirements: tuple[str, ...]  #: what it imports that the service lacks, as its requirements.txt says (`networkx==3.4.2`)
    not_in_environment: tuple[str, ...]  #: of those, the ones the environment's requirements file does not name

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "size": self.size, "sha256": self.sha256, "files": self.files,
                "requirements": list(self.requirements), "not_in_environment": list(self.not_in_environment)}


def package_plan(package: PackageOutput, data: bytes, url: str, environment: Sequence[str] | None) -> PackagePlan:
    """The plan's view of `package` (its zip `data` as it is in the output): its requirements as its
    requirements.txt holds them (convert pinned them with the environment's requirements file, so the
    workers get what the source environment ran), and those the file does not name; `environment`
    None: the environment has no readable requirements file."""
    named = {distribution(line) for line in environment or ()}
    requirements = tuple(line.split("#", 1)[0].strip() for line in package.requirements_text.splitlines()
                         if line.strip() and not line.lstrip().startswith("#"))
    needed = [d for d in (distribution(line) for line in requirements) if d]
    missing = tuple(d for d in needed if d not in named) if environment is not None else ()
    return PackagePlan(package.name, url, len(data), hashlib.sha256(data).hexdigest(), len(package.files),
                       requirements, missing)


__all__ = ["CODE_PACKAGE_CODES", "PackagePlan", "distribution", "make_roles", "needs_code_package", "package_plan",
           "role_name", "wanted_role"]
