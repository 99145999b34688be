"""`convert --iam`: each converted DAG's execution role, written beside its YAML.

The role of a freshly converted DAG is derived from its workflow (iam.derive) once duplicate ids
are refused (it reads the DAG's YAML and, with --code-package, its code package, where deploy puts them), and its warnings (DC510-DC514) join the DAG's diagnostics at their source lines. A
DAG restored from the manifest has no argument values left to derive from: its role file is
already in the output (the manifest records it like a YAML), and the report reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dag_converter.config import RoleSettings
from dag_converter.model import DagResult, FileResult
from dag_converter.storage import Sink, StorageError

if TYPE_CHECKING:
    from dag_converter.iam.policy import IamData, RoleDerivation
    from dag_converter.registry import Registry


@dataclass(frozen=True, slots=True)
class RoleFile:
    """One DAG's ``<dag_id>.iam.json``: its name in the output, its text, and the derivation."""

    name: str
    text: str
    derivation: "RoleDerivation"


class RoleWriter:
    """Derives the roles of one run; `definition` is where the definitions are when the output is
    S3 (bucket, key prefix), so the role reads exactly its own YAML."""

    def __init__(self, settings: RoleSettings, definition: tuple[str, str] | None = None) -> None:
        from dag_converter.iam.arns import Place
        from dag_converter.iam.policy import load_iam_data
        from dag_converter.registry import get_registry

        self.settings = settings
        self.place = Place(partition=settings.partition, region=settings.region, account=settings.account)
        self.definition = definition
        self.data: IamData = load_iam_data()
        self.registry: Registry = get_registry()

    def key(self) -> dict[str, Any]:
        """What changes the role files, for the manifest's settings."""
        key = {"account": self.settings.account, "region": self.settings.region,
               "partition": self.settings.partition, "definition_bucket": self.settings.definition_bucket,
               "kms_key": self.settings.kms_key, "definition": list(self.definition or ()),
               "iam_data": self.data.provider_version}
        if self.settings.definition_prefix is not None:
            key["definition_prefix"] = self.settings.definition_prefix
        return key

    def _where(self, name: str) -> tuple[str | None, str | None]:
        """(bucket, key) of an output file (the YAML, the code package) as the service reads it:
        below the definition bucket and prefix when given, else where an S3 output puts it; the
        bucket None (any) and the key None (the derivation's default) when nothing says."""
        settings = self.settings
        if settings.definition_bucket is not None:
            prefix = settings.definition_prefix
            return settings.definition_bucket, prefix + name if prefix is not None else None
        if self.definition is not None:
            return self.definition[0], self.definition[1] + name
        return None, None

    def derive(self, result: FileResult) -> tuple[FileResult, list[RoleFile]]:
        """The result with each converted DAG's role warnings added, and the DAGs' role files."""
        from dag_converter.iam.policy import derive, render

        if not any(d.converted for d in result.dags):
            return result, []
        dags: list[DagResult] = []
        roles: list[RoleFile] = []
        for dag in result.dags:
            if not dag.converted or dag.output_name is None:
                dags.append(dag)
                continue
            bucket, key = self._where(dag.output_name)
            code: list[str] = []
            if dag.code_package is not None:  # the service reads the package beside the YAML
                code_bucket, code_key = self._where(dag.code_package.name)
                code.append(f"s3://{code_bucket or '*'}/{code_key or dag.code_package.name}")
            derivation = derive(dag.workflow, self.registry, data=self.data, place=self.place,
                                definition_bucket=bucket, definition_key=key, code_objects=code,
                                kms_key=self.settings.kms_key)
            roles.append(RoleFile(role_name(dag.dag_id, dag.output_name), render(derivation, self.data), derivation))
            dags.append(dag.with_diagnostics(*derivation.diagnostics) if derivation.diagnostics else dag)
        return result.with_dags(dags), roles


def role_name(dag_id: str, yaml_name: str) -> str:
    """``<dag_id>.iam.json`` beside the DAG's YAML (in its folder, when the YAML is in one)."""
    folder = yaml_name.rpartition("/")[0]
    return f"{folder}/{dag_id}.iam.json" if folder else f"{dag_id}.iam.json"


def read_back(dags: Sequence[DagResult], sink: Sink) -> list["RoleDerivation"]:
    """The derivations of DAGs restored from the manifest, from the role files in `sink`; a file
    that cannot be read is left out of the report (the next run that converts the DAG rewrites it)."""
    from dag_converter.iam.policy import RoleDerivation, TaskActions

    found = []
    for dag in dags:
        if not dag.converted or dag.output_name is None:
            continue
        try:
            text = sink.read_text(role_name(dag.dag_id, dag.output_name))
            document = json.loads(text) if text else None
            tasks = tuple(TaskActions(str(task_id), str(t["operator"]), tuple(map(str, t["actions"])),
                                      bool(t["derived"])) for task_id, t in document["tasks"].items())
            found.append(RoleDerivation(dag.dag_id, document["trust_policy"], document["permissions_policy"], tasks,
                                        tuple(d for d in dag.diagnostics if d.code.startswith("DC51"))))
        except (StorageError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return found


__all__ = ["RoleFile", "RoleWriter", "read_back", "role_name"]
