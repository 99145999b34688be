"""The one place migrate reaches the roles and code-package features, kept small so that the wiring of
`convert --iam`, `deploy --create-roles` (branch roles) and `convert --code-package` (branch pkgwire)
can replace a body here without touching the rest of the package.

Today (main): roles are derived with `iam.roles_for_dags` and created with `iam.create_or_update_role`;
`convert` makes no code package, so a DAG whose tasks need one is refused by convert and the plan says so
(`code_package_for` returns None, `needs_code_package` names the findings).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Final

from dag_converter.model import DagResult, Diagnostic

ROLE_NAME_MAX: Final = 64  #: IAM RoleName: 1-64 of [\w+=,.@-]
_ROLE_CHARS: Final = re.compile(r"[^A-Za-z0-9_+=,.@-]")
#: codes that mean "this DAG's tasks run Python the YAML cannot name": a code package ships it
CODE_PACKAGE_CODES: Final = frozenset({"DC312", *(f"DC34{n}" for n in range(10))})


@dataclass(frozen=True, slots=True)
class Role:
    """A workflow's derived execution role."""

    name: str
    arn: str
    trust: dict[str, Any]
    policy: dict[str, Any]
    diagnostics: tuple[Diagnostic, ...]


def role_name(prefix: str, dag_id: str) -> str:
    """`prefix + dag_id`, made a valid IAM role name; a long one keeps a digest of the whole."""
    name = _ROLE_CHARS.sub("-", prefix + dag_id)
    if len(name) > ROLE_NAME_MAX:
        tail = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = name[:ROLE_NAME_MAX - 9] + "-" + tail
    return name


def derive_role(dag: DagResult, *, name: str, partition: str, region: str, account: str,
                definition_bucket: str, definition_key: str, kms_key: str | None) -> Role:
    """The least-privilege role of one converted DAG (iam.roles_for_dags, as `convert --iam` will write it)."""
    from dag_converter.iam import roles_for_dags
    from dag_converter.iam.arns import Place
    from dag_converter.registry import get_registry

    place = Place(partition=partition, region=region, account=account)
    [(_, _, derivation)] = list(roles_for_dags([dag], get_registry(), place=place, definition_bucket=definition_bucket,
                                               definition_key=definition_key, kms_key=kms_key))
    arn = f"arn:{partition}:iam::{account}:role/{name}"
    return Role(name, arn, derivation.trust, derivation.policy, derivation.diagnostics)


def ensure_role(iam_client: Any, role: Role, description: str) -> dict[str, Any]:
    """Create or update the role (no write when it already has these documents)."""
    from dag_converter.iam import create_or_update_role

    return create_or_update_role(iam_client, role.name, role.trust, role.policy, description=description[:1000])


@dataclass(frozen=True, slots=True)
class CodePackageRef:
    """A DAG's code package once convert makes one: where the zip is, and its requirements."""

    name: str
    requirements: tuple[str, ...] = ()


def code_package_for(dag: DagResult) -> CodePackageRef | None:
    """The code package convert made for `dag`; None on main (no `convert --code-package` yet)."""
    return None


def needs_code_package(dag: DagResult) -> tuple[str, ...]:
    """The findings that refused `dag` because its Python needs a code package (empty: none): the
    package's own codes, and the refusals whose hint says `--code-package` would carry the task."""
    return tuple(f"{d.code} {d.message}" for d in dag.diagnostics
                 if d.code in CODE_PACKAGE_CODES or (d.hint is not None and "--code-package" in d.hint))


__all__ = ["CodePackageRef", "Role", "code_package_for", "derive_role", "ensure_role", "needs_code_package",
           "role_name"]
