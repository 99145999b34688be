"""What MWAA Serverless pre-installs, and which distribution provides an import: shipped data.

`data/environment.json` is generated from a reference environment (the project's venv: Airflow 3.0.6,
apache-airflow-providers-amazon 9.32.0, the standard provider, boto3) by
`python -m dag_converter.codepackage._environment > dag_converter/codepackage/data/environment.json`.
It holds the dependency closure of those distributions (what the service has before a package adds
anything) and, for every distribution of the reference environment, the import names it provides.
Shipping it keeps requirements.txt the same on every machine, whatever the converter runs in.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final

#: The distributions the service pre-installs (SERVICE.md, "Code packages"; TARGET.md).
SERVICE_ROOTS: Final = ("apache-airflow", "apache-airflow-providers-amazon", "apache-airflow-providers-standard", "boto3")

# Provider packages live in the `airflow.providers` namespace; these second-level names are
# namespaces too (apache-airflow-providers-common-sql is `airflow.providers.common.sql`).
_PROVIDER_NAMESPACES: Final = frozenset({"apache", "atlassian", "cncf", "common", "dbt", "microsoft"})


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return "-".join(part for part in name.lower().replace("_", "-").replace(".", "-").split("-") if part)


@dataclass(frozen=True, slots=True)
class Environment:
    """The pre-installed closure and an import-name table."""

    preinstalled: dict[str, str]  #: canonical distribution name -> version
    modules: dict[str, str]  #: dotted import prefix -> distribution (canonical name)
    source: str  #: how the data was made

    def distribution_for(self, module: str) -> str | None:
        """The distribution that provides `module` (longest known prefix), by the table or the provider rule."""
        parts = module.split(".")
        for end in range(len(parts), 0, -1):
            found = self.modules.get(".".join(parts[:end]))
            if found is not None and not (end == 1 and parts[0] == "airflow" and len(parts) > 2
                                          and parts[1] == "providers"):
                return found
        if len(parts) >= 3 and parts[:2] == ["airflow", "providers"]:
            name = parts[2:4] if parts[2] in _PROVIDER_NAMESPACES and len(parts) >= 4 else parts[2:3]
            return canonical("apache-airflow-providers-" + "-".join(name))
        return None

    def with_modules(self, extra: Mapping[str, str]) -> Environment:
        """This table plus `extra` (import name -> distribution), e.g. from `[tool.dag-converter]`."""
        if not extra:
            return self
        modules = dict(self.modules)
        modules.update({name: canonical(dist) for name, dist in extra.items()})
        return Environment(self.preinstalled, modules, self.source + " + configured import names")

    def is_preinstalled(self, distribution: str) -> bool:
        return canonical(distribution) in self.preinstalled


@lru_cache(maxsize=1)
def shipped() -> Environment:
    """The table shipped with the converter."""
    text = resources.files("dag_converter.codepackage").joinpath("data/environment.json").read_text("utf-8")
    data = json.loads(text)
    return Environment(dict(data["preinstalled"]), dict(data["modules"]), data["source"])


def build(roots: Iterable[str] = SERVICE_ROOTS) -> dict[str, object]:  # pragma: no cover - run by hand
    """The table for the running interpreter's environment (this is how data/environment.json is made)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    installed = {canonical(d.metadata["Name"]): d for d in metadata.distributions()}
    installed.pop("dag-converter", None)  # the converter itself is no requirement of anyone's code
    closure: dict[str, str] = {}
    todo = [canonical(r) for r in roots]
    while todo:
        name = todo.pop()
        dist = installed.get(name)
        if dist is None or name in closure:
            continue
        closure[name] = dist.version
        for line in dist.requires or ():
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonical(req.name))
    modules: dict[str, str] = {}
    for name, dist in sorted(installed.items()):
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".data")) or parts[0] in ("..", "__pycache__"):
                continue
            if parts[0] == "airflow" and len(parts) > 2 and parts[1] == "providers":
                if parts[-1] == "get_provider_info.py":
                    modules[".".join(parts[:-1])] = name
                continue
            if parts[0] == "airflow" and len(parts) > 1 and parts[1] in ("sdk",):
                modules["airflow.sdk"] = name
                continue
            top = parts[0][:-3] if parts[0].endswith(".py") else parts[0]
            if top.isidentifier() and (len(parts) > 1 or parts[0].endswith(".py")) and parts[0] != "airflow":
                modules.setdefault(top, name)
            elif parts[0] == "airflow" and name == "apache-airflow-core":
                modules["airflow"] = name
    return {
        "source": (f"python {sys.version.split()[0]}, closure of {', '.join(roots)} as installed "
                   f"(apache-airflow {closure.get('apache-airflow', '?')})"),
        "preinstalled": dict(sorted(closure.items())),
        "modules": dict(sorted(modules.items())),
    }


if __name__ == "__main__":  # pragma: no cover
    json.dump(build(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
