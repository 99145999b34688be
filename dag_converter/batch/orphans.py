"""Orphans: YAML the converter wrote (the manifest is the record) whose source no longer defines
that DAG: the DAG file was deleted, or the DAG removed or renamed. `--check` reports them
(DC116), `convert --prune` removes them; a file the manifest does not name is never touched.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from dag_converter import codes
from dag_converter.batch.manifest import Manifest, is_output_name
from dag_converter.model import Diagnostic, FileResult, Span
from dag_converter.storage import Sink, Source, is_s3_url, root_of

#: Codes of a source that could not be read this time: what it defines is unknown, nothing is orphaned.
_UNKNOWN = frozenset({codes.UNREADABLE_FILE.code, codes.STORAGE_ERROR.code, codes.INTERNAL_ERROR.code,
                      codes.FILE_TOO_LARGE.code})


#: What a DAG's outputs are called: its YAML, its execution role (--iam), its code package.
OUTPUT_SUFFIXES: tuple[str, ...] = (".yaml", ".iam.json", ".code.zip")


def outputs_of(dag_id: str) -> set[str]:
    """The names a DAG's outputs may have in the output folder."""
    return {dag_id + suffix for suffix in OUTPUT_SUFFIXES}


def _dag_id_of(name: str) -> str:
    for suffix in OUTPUT_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True, slots=True)
class Orphan:
    name: str  #: the YAML's name in the output folder
    source: str  #: the source the manifest says it was written from
    digest: str  #: sha256 of the text written (the manifest's)
    diagnostic: Diagnostic  #: DC116, at the source


def find_orphans(recorded: Manifest, sources: Sequence[Source], results: Sequence[FileResult],
                 scope: Sequence[str], output: Sink) -> list[Orphan]:
    """Outputs recorded for a source inside `scope` that it no longer produces: the source is
    gone, or was converted now without that DAG; and orphans an earlier run left in place. Names
    another source still produces, and files no longer in the output, are not orphans."""
    by_display = {source.display: result for source, result in zip(sources, results)}
    produced = {name for result in results for dag in result.dags for name in outputs_of(dag.dag_id)}
    found: list[Orphan] = []
    for display, entry in sorted(recorded.sources.items()):
        if not entry.outputs or not root_of(display, scope):
            continue
        result = by_display.get(display)
        if result is None:
            if not is_s3_url(display) and os.path.lexists(display):
                continue  # excluded or ignored now, not deleted: its YAML is not ours to judge
            still: set[str] = set()
        elif any(d.code in _UNKNOWN for d in result.all_diagnostics()):
            continue
        else:
            still = {name for dag in result.dags for name in outputs_of(dag.dag_id)}
        for name, digest in entry.outputs:
            if not is_output_name(name) or name in still or name in produced or not output.exists(name):
                continue
            target = output.url(name)
            diagnostic = codes.make(codes.ORPHANED_OUTPUT, Span(display), target=target, source=display,
                                    dag_id=_dag_id_of(name))
            found.append(Orphan(name, display, digest, diagnostic))
    listed = {orphan.name for orphan in found}
    for name, (display, digest) in sorted(recorded.orphans.items()):
        if name in listed or name in produced or not root_of(display, scope) or not output.exists(name):
            continue
        diagnostic = codes.make(codes.ORPHANED_OUTPUT, Span(display), target=output.url(name), source=display,
                                dag_id=_dag_id_of(name))
        found.append(Orphan(name, display, digest, diagnostic))
    return found


__all__ = ["OUTPUT_SUFFIXES", "Orphan", "find_orphans", "outputs_of"]
