"""A least-privilege execution role per workflow (issue 18).

- `derive_role(workflow, registry, ...) -> (document_text, diagnostics)`: the ``<dag_id>.iam.json``
  text (trust policy + permissions policy + actions per task) for one converted DAG; what the batch
  calls for ``convert --iam``.
- `roles_for_dags(dag_results, registry, ...)`: (file name, text, derivation) per converted DAG of
  a batch; the derivations go to `RunReport.execution_roles` for the Markdown report.
- `derive(...)`: the same as data (`RoleDerivation`, with `TaskActions` per task), for the report.
- `workflows_in_output(folder)`: the converted workflows of an output folder, read back from its YAML
  (and the manifest, for source positions); what ``dag-converter iam OUTPUT`` uses.
- `create_or_update_role(iam_client, name, trust, policy)`: make the role exist with exactly these
  documents (for ``deploy --create-roles``).

Attributes load lazily, so ``dag_converter.iam.command`` costs the CLI's start-up nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Place": "arns",
    "RoleDerivation": "policy", "TaskActions": "policy", "derive": "policy", "derive_role": "policy",
    "load_iam_data": "policy", "output_name": "policy", "render": "policy", "roles_for_dags": "policy",
    "create_or_update_role": "roles",
    "SERVICE_PRINCIPAL": "trust", "trust_policy": "trust",
    "workflows_in_output": "workflows",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(import_module(f"dag_converter.iam.{module}"), name)


__all__ = sorted(_EXPORTS)
