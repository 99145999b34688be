"""conversion-manifest.json: what a previous run converted, so a rerun can skip it.

For each source (keyed by its path as the user gave it, which is also its path in the report) the manifest keeps the source's
fingerprint (S3: ETag and size from the listing; local: size and mtime), the checksum of every
YAML written from it, and its entry in the report, so the report of a rerun is complete without
reading the source again. An entry is added only once all of its YAML is written; a run that
stops halfway leaves a manifest that names exactly the finished sources.

The text is deterministic (sorted keys, no timestamps): an unchanged rerun produces the same
bytes, and the writer skips the write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from dag_converter import __version__
from dag_converter.model import (
    DagResult,
    Diagnostic,
    FileResult,
    FileStatus,
    RuntimeRead,
    Severity,
    Span,
    Task,
    Workflow,
)
from dag_converter.pipeline import Options
from dag_converter.report import file_dict

MANIFEST_NAME: Final = "conversion-manifest.json"
MANIFEST_VERSION: Final = 1
#: yaml_text of a DAG restored from the manifest: its YAML is already in place (output_name,
#: with the checksum the manifest records) and is never rewritten from here.
RESTORED_YAML: Final = ""


def settings_key(options: Options) -> str:
    """What makes an old conversion stale besides its source: the tool version and each setting
    that changes the YAML or the verdicts, named one by one (black's Mode.get_cache_key), so a
    field added to Options or Target does not silently invalidate every manifest."""
    target = options.target
    return json.dumps({
        "version": __version__,
        "target": target.name,
        "allow_operators": sorted(target.allow_operators),
        "dags_folder": target.dags_folder,
        "max_file_size": options.max_file_size,
        "today": options.today.isoformat() if options.today is not None else None,
        # --var/--env values change the YAML; named only when given, so older manifests stay valid.
        **({"run_values": [list(map(list, options.run_values.variables)),
                           list(map(list, options.run_values.environment))]}
           if options.run_values.variables or options.run_values.environment else {}),
    }, sort_keys=True, separators=(",", ":"))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SourceEntry:
    fingerprint: str
    outputs: tuple[tuple[str, str], ...]  #: (YAML name, sha256 of its text), in DAG order
    result: Mapping[str, object]  #: the report's entry for this source (report._model.file_dict)


@dataclass
class Manifest:
    """The one mutable record of a run at the edge (like the run counter): updated as sources
    finish, saved by the runner."""

    settings: str  #: the tool version and options; a change invalidates every entry
    sources: dict[str, SourceEntry] = field(default_factory=dict)
    _fragments: dict[str, tuple[SourceEntry, str]] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, source: str, fingerprint: str) -> SourceEntry | None:
        entry = self.sources.get(source)
        if entry is None or entry.fingerprint != fingerprint:
            return None
        return entry

    def record(self, source: str, fingerprint: str, result: FileResult) -> None:
        outputs = tuple((d.output_name, sha256_text(d.yaml_text)) for d in result.dags
                        if d.output_name is not None and d.yaml_text is not None)
        self.sources[source] = SourceEntry(fingerprint, outputs, file_dict(result))

    def keep(self, source: str, entry: SourceEntry) -> None:
        self.sources[source] = entry

    def forget(self, source: str) -> None:
        self.sources.pop(source, None)

    def dumps(self) -> str:
        """The manifest's text: the document as JSON, one line per source. Each source's line is
        encoded once and cached (the runner saves the manifest during a run), and compactly, so
        json uses its C encoder: an indented dump goes through the pure-Python one."""
        head = json.dumps({
            "manifest_version": MANIFEST_VERSION,
            "tool": {"name": "dag-converter", "version": __version__},
            "settings": self.settings,
            "sources": {},
        }, indent=1, ensure_ascii=False)
        if not self.sources:
            return head + "\n"
        items = ",\n".join(f"  {json.dumps(source, ensure_ascii=False)}: {self._encoded(source, entry)}"
                           for source, entry in sorted(self.sources.items()))
        return head[:-len("{}\n}")] + "{\n" + items + "\n }\n}\n"

    def _encoded(self, source: str, entry: SourceEntry) -> str:
        cached = self._fragments.get(source)
        if cached is not None and cached[0] is entry:
            return cached[1]
        value = {"fingerprint": entry.fingerprint, "outputs": dict(entry.outputs), "result": entry.result}
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        self._fragments[source] = (entry, text)
        return text


def load_manifest(text: str | None, settings: str) -> Manifest:
    """The manifest of a previous run; empty when missing, unreadable, or written with other settings."""
    manifest = Manifest(settings)
    if not text:
        return manifest
    try:
        document = json.loads(text)
        if document.get("manifest_version") != MANIFEST_VERSION or document.get("settings") != settings:
            return manifest
        for source, raw in document["sources"].items():
            outputs = tuple((str(name), str(digest)) for name, digest in raw["outputs"].items())
            manifest.sources[str(source)] = SourceEntry(str(raw["fingerprint"]), outputs, raw["result"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return Manifest(settings)  # a damaged manifest means a full run, never a crash
    return manifest


def restore_result(entry: SourceEntry) -> FileResult:
    """The FileResult a source produced last time, rebuilt from its report entry: enough for the
    report and summary (ids, lines, operators, dependencies, diagnostics), no argument values."""
    raw = entry.result
    path = str(raw["path"])
    dags = []
    for dag in raw["dags"]:  # type: ignore[attr-defined]
        tasks = tuple(Task(str(t["task_id"]), str(t["operator"]), Span(path, int(t["line"])),
                           upstream=tuple(t["upstream"])) for t in dag["tasks"])
        reads = tuple(RuntimeRead(str(r["kind"]), str(r["name"]), Span(str(r["path"]), int(r["line"])))
                      for r in dag.get("reads", ()))
        workflow = Workflow(str(dag["dag_id"]), Span(path, int(dag["line"])), tasks=tasks, reads=reads)
        converted = dag["status"] == "converted"
        dags.append(DagResult(workflow, tuple(_diagnostic(d) for d in dag["diagnostics"]),
                              RESTORED_YAML if converted else None, dag["output"] if converted else None))
    return FileResult(path, FileStatus(raw["status"]), tuple(_diagnostic(d) for d in raw["diagnostics"]),  # type: ignore[attr-defined]
                      tuple(dags))


def _diagnostic(raw: Mapping[str, object]) -> Diagnostic:
    return Diagnostic(str(raw["code"]), Severity(raw["severity"]), str(raw["message"]),
                      Span(str(raw["path"]), int(raw["line"]), int(raw["column"])),  # type: ignore[call-overload]
                      raw["hint"] if isinstance(raw["hint"], str) else None)


__all__ = ["MANIFEST_NAME", "Manifest", "RESTORED_YAML", "SourceEntry", "load_manifest", "restore_result",
           "settings_key", "sha256_text"]
