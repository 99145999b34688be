"""What `convert` left in an output folder: the converted DAGs (from its manifest) and their YAML.

The manifest records, per source, each DAG's id, source line and YAML name; deploy reads it through
the manifest module's public API in `converted_dags` only, so the module can move without touching
the rest of this package. The YAML is read as it is now (after the user's review), and its digest
is taken from those bytes, not from the manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from dag_converter.model import Span

MANIFEST_FILE = "conversion-manifest.json"


class InputError(Exception):
    """The output folder holds no usable manifest: nothing can be deployed (exit 2)."""


@dataclass(frozen=True, slots=True)
class ConvertedDag:
    dag_id: str
    span: Span  #: the DAG's line in its source, as the conversion report records it
    yaml_name: str | None  #: the YAML's path below the output folder; None when the DAG was refused
    package_name: str | None = None  #: its code package below the output folder (convert --code-package)


def converted_dags(manifest_text: str) -> list[ConvertedDag]:
    """Every DAG the manifest knows, converted or refused, in source order."""
    from dag_converter.batch.manifest import (MANIFEST_VERSION,  # the one import of the manifest module
                                              load_manifest, restore_result)

    try:
        document = json.loads(manifest_text)
        settings, version = document.get("settings"), document.get("manifest_version")
    except (ValueError, AttributeError) as exc:
        raise InputError(f"{MANIFEST_FILE} is not valid JSON: {exc}") from exc
    if isinstance(version, int) and not isinstance(version, bool) and version != MANIFEST_VERSION:
        raise InputError(f"{MANIFEST_FILE} was written by another version of dag-converter (layout {version}, "
                         f"this one reads {MANIFEST_VERSION}); run dag-converter convert again first")
    manifest = load_manifest(manifest_text, settings if isinstance(settings, str) else "")
    if not manifest.sources:
        raise InputError(f"{MANIFEST_FILE} names no converted source; run dag-converter convert first")
    dags = []
    for _, entry in sorted(manifest.sources.items()):
        result = restore_result(entry)
        for dag in result.dags:
            package = dag.code_package.name if dag.converted and dag.code_package is not None else None
            dags.append(ConvertedDag(dag.dag_id, dag.workflow.span, dag.output_name if dag.converted else None,
                                     package))
    return dags


@dataclass(frozen=True, slots=True)
class Definition:
    """One DAG's YAML as it will be deployed."""

    dag: ConvertedDag
    data: bytes
    sha256: str
    description: str | None  #: the DAG's description, on one line, at most 1024 characters
    tags: tuple[str, ...]  #: the DAG's tags
    package: bytes | None = None  #: the code package sent with it (`Code`), as it is in the output now
    package_sha256: str | None = None

    @property
    def deploy_digest(self) -> str:
        """What the definition tag records: the YAML's digest, combined with its code package's when
        there is one, so a changed package alone makes one UpdateWorkflow."""
        if self.package_sha256 is None:
            return self.sha256
        return hashlib.sha256(f"{self.sha256}+{self.package_sha256}".encode()).hexdigest()


DESCRIPTION_MAX = 1024  #: the model's DescriptionString: 1-1024, pattern `.+`


def read_definition(dag: ConvertedDag, read: Callable[[str], bytes]) -> Definition:
    """The YAML of `dag` read with `read(yaml_name)` (which raises OSError when it cannot)."""
    assert dag.yaml_name is not None
    data = read(dag.yaml_name)
    description, tags = _dag_fields(data, dag.dag_id)
    package = read(dag.package_name) if dag.package_name is not None else None
    return Definition(dag, data, hashlib.sha256(data).hexdigest(), description, tags, package,
                      hashlib.sha256(package).hexdigest() if package is not None else None)


def _dag_fields(data: bytes, dag_id: str) -> tuple[str | None, tuple[str, ...]]:
    """`description` and `tags` of the DAG in a dag-factory document; nothing when the document
    is not the expected shape (the service is the judge of the definition itself)."""
    import yaml  # here: `dag-converter --help` starts without it

    try:
        document = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return None, ()
    body = document.get(dag_id) if isinstance(document, dict) else None
    if not isinstance(body, dict):
        return None, ()
    raw = body.get("description")
    description = " ".join(raw.split())[:DESCRIPTION_MAX] if isinstance(raw, str) else None
    tags = body.get("tags")
    return description or None, tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()


__all__ = ["ConvertedDag", "Definition", "InputError", "MANIFEST_FILE", "converted_dags", "read_definition"]
