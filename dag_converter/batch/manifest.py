"""conversion-manifest.json: what a previous run converted, so a rerun can skip it.

For each source (keyed by its path as the user gave it, which is also its path in the report) the manifest keeps the source's
fingerprint (S3: ETag and size from the listing; local: size and mtime), the checksum of every
YAML written from it, its entry in the report, so the report of a rerun is complete without
reading the source again, and every other file of its DAG folder its conversion read or looked
for (helper modules, data and template files, files its code package ships, paths found missing)
with the version then (FileResult.reads): a source is skipped only when none of them changed. An entry is added only once all of its YAML is written; a run that
stops halfway leaves a manifest that names exactly the finished sources.

The text is deterministic (sorted keys, no timestamps): an unchanged rerun produces the same
bytes, and the writer skips the write.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from dag_converter import __version__
from dag_converter.model import (
    DagResult,
    Diagnostic,
    FileResult,
    FileStatus,
    FolderRead,
    RuntimeRead,
    Severity,
    Span,
    Task,
    Workflow,
)
from dag_converter.pipeline import Options
from dag_converter.report import file_dict, package_from_dict

MANIFEST_NAME: Final = "conversion-manifest.json"
#: 2: `reads` maps each folder file a source depended on to its version (1 listed module paths only)
MANIFEST_VERSION: Final = 2
#: yaml_text of a DAG restored from the manifest: its YAML is already in place (output_name,
#: with the checksum the manifest records) and is never rewritten from here.
RESTORED_YAML: Final = ""


def settings_key(options: Options, roles: Mapping[str, object] | None = None) -> str:
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
        # convert --iam: the role files are outputs too; a run without it keeps its old key
        **({"iam": roles} if roles is not None else {}),
        # --once-as manual changes @once DAGs; the default adds no key, so existing manifests stay current
        **({"once_as": target.once_as} if target.once_as != "refuse" else {}),
        # --var/--env values change the YAML; named only when given, so older manifests stay valid.
        **({"run_values": [list(map(list, options.run_values.variables)),
                           list(map(list, options.run_values.environment))]}
           if options.run_values.variables or options.run_values.environment else {}),
        # --requirements and --build-deps change the code packages; named only when given
        **({"pins": options.pins.key} if options.pins is not None else {}),
        **({"build_deps": True} if options.build_deps else {}),
    }, sort_keys=True, separators=(",", ":"))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SourceEntry:
    fingerprint: str
    outputs: tuple[tuple[str, str], ...]  #: (YAML name, sha256 of its text), in DAG order, then the role files
    result: Mapping[str, object]  #: the report's entry for this source (report._model.file_dict)
    #: files of the DAG folder the source's conversion read or looked for, with their versions then
    #: (FileResult.reads): a change to any of them makes the entry stale (reads_current)
    reads: tuple[FolderRead, ...] = ()
    relative: str = ""  #: the source's path below its DAG folder (Source.relative), when it read any
    #: False when the entry names a YAML the converter never writes (`../x.yaml`, 300 characters):
    #: a run converts its source again; `deploy` still sees it, to refuse it by name
    reusable: bool = field(default=True, compare=False)


@dataclass
class Manifest:
    """The one mutable record of a run at the edge (like the run counter): updated as sources
    finish, saved by the runner."""

    settings: str  #: the tool version and options; a change invalidates every entry
    sources: dict[str, SourceEntry] = field(default_factory=dict)
    #: YAML written earlier whose source no longer defines its DAG, left in place (no --prune):
    #: name -> (the source it was written from, sha256 of the text written)
    orphans: dict[str, tuple[str, str]] = field(default_factory=dict)
    _fragments: dict[str, tuple[SourceEntry, str]] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, source: str, fingerprint: str) -> SourceEntry | None:
        entry = self.sources.get(source)
        if entry is None or entry.fingerprint != fingerprint or not entry.reusable:
            return None
        return entry

    def record(self, source: str, fingerprint: str, result: FileResult, relative: str = "",
               beside: tuple[tuple[str, str], ...] = ()) -> None:
        """`beside`: (name, text) of the other files written from the source (convert --iam's roles)."""
        outputs: list[tuple[str, str]] = []
        for d in result.dags:
            if d.output_name is not None and d.yaml_text is not None:
                outputs.append((d.output_name, sha256_text(d.yaml_text)))
                if d.code_package is not None and d.code_package.digest:  # `<dag_id>.code.zip`, beside the YAML
                    outputs.append((d.code_package.name, d.code_package.digest))
        outputs += [(name, sha256_text(text)) for name, text in beside]
        self.sources[source] = SourceEntry(fingerprint, tuple(outputs), file_dict(result), result.reads,
                                           relative if result.reads else "")

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
            **({"orphans": {name: {"source": source, "sha256": digest}
                            for name, (source, digest) in sorted(self.orphans.items())}} if self.orphans else {}),
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
        value: dict[str, object] = {"fingerprint": entry.fingerprint, "outputs": dict(entry.outputs),
                                    "result": entry.result}
        if entry.reads:
            value["reads"] = {read.path: read.version for read in entry.reads}
            value["relative"] = entry.relative
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        self._fragments[source] = (entry, text)
        return text


#: bytes: a larger manifest is not parsed (the run converts everything, as with no manifest).
#: A source's entry takes about 1.5 KB, so this holds some 80,000 sources.
MAX_MANIFEST_BYTES: Final = 128 * 1024 * 1024
#: A YAML name an entry may record: what the converter writes (`<dag_id>.yaml`, dag ids of at
#: most 250 characters), so a damaged or hostile entry cannot name a path outside the output.
_OUTPUT_NAME: Final = re.compile(r"[A-Za-z0-9_.-]{1,250}\.(?:yaml|iam\.json|code\.zip)")
_DIGEST: Final = re.compile(r"[0-9a-f]{64}")


def load_manifest(text: str | None, settings: str) -> Manifest:
    """The manifest of a previous run; empty when missing, too large, unreadable, or written with
    other settings. The manifest is advisory: an entry that is damaged in any way (wrong types,
    NaN, an output name that is not one the converter writes) is dropped, so its source is
    converted again; it never stops the run and never skips a source."""
    manifest = Manifest(settings)
    if not text or len(text) > MAX_MANIFEST_BYTES:
        return manifest
    try:
        # NaN and Infinity are not JSON: read as None, which no field accepts.
        document = json.loads(text, parse_constant=lambda _: None)
    except (ValueError, RecursionError):
        return manifest  # a damaged manifest means a full run, never a crash
    if not isinstance(document, dict) or document.get("manifest_version") != MANIFEST_VERSION or \
            document.get("settings") != settings or not isinstance(document.get("sources"), dict):
        return manifest
    for source, raw in document["sources"].items():
        entry = _entry(raw)
        if entry is not None:
            manifest.sources[source] = entry
    orphans = document.get("orphans", {})
    for name, raw in (orphans.items() if isinstance(orphans, dict) else ()):
        if isinstance(name, str) and is_output_name(name) and isinstance(raw, dict) and \
                isinstance(raw.get("source"), str) and isinstance(raw.get("sha256"), str):
            manifest.orphans[name] = (raw["source"], raw["sha256"])
    return manifest


def _entry(raw: object) -> SourceEntry | None:
    """A source's entry when every part of it is well formed, else None."""
    if not isinstance(raw, dict):
        return None
    fingerprint, outputs, result = raw.get("fingerprint"), raw.get("outputs"), raw.get("result")
    if not isinstance(fingerprint, str) or not fingerprint or not isinstance(outputs, dict) or \
            not isinstance(result, dict):
        return None
    if not all(isinstance(digest, str) for digest in outputs.values()):
        return None
    reads, relative = raw.get("reads", {}), raw.get("relative", "")
    if not isinstance(reads, dict) or not all(isinstance(v, str) and v for v in reads.values()) or \
            not isinstance(relative, str):
        return None
    entry = SourceEntry(fingerprint, tuple(outputs.items()), result,
                        tuple(FolderRead(path, version) for path, version in sorted(reads.items())), relative)
    try:
        restored = restore_result(entry)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError):
        return None  # the report entry cannot be rebuilt: nothing can use it
    named = {d.output_name for d in restored.dags if d.output_name is not None}
    reusable = all(is_output_name(name) and _DIGEST.fullmatch(digest) for name, digest in outputs.items()) and \
        all(is_output_name(name) for name in named) and not named - set(outputs)
    return entry if reusable else SourceEntry(fingerprint, entry.outputs, result, entry.reads, relative,
                                              reusable=False)


def reads_current(entry: SourceEntry, version_of: Callable[[str], str]) -> bool:
    """Whether every folder file the entry's conversion read or looked for still has the version
    it had then (`version_of`: the source's folder, asked now); a file changed, gone, or one
    that was missing and now exists makes the entry stale."""
    return all(version_of(read.path) == read.version for read in entry.reads)


def is_output_name(name: str) -> bool:
    """Whether `name` is one the converter writes (a damaged manifest may name anything)."""
    return _OUTPUT_NAME.fullmatch(name) is not None and name not in ("..yaml",)


def restore_result(entry: SourceEntry) -> FileResult:
    """The FileResult a source produced last time, rebuilt from its report entry: enough for the
    report and summary (ids, lines, operators, dependencies, diagnostics), no argument values."""
    raw = entry.result
    path = _text(raw["path"])
    dags = []
    for dag in raw["dags"]:  # type: ignore[attr-defined]
        tasks = tuple(Task(_text(t["task_id"]), _text(t["operator"]), Span(path, _int(t["line"])),
                           upstream=tuple(_text(u) for u in t["upstream"])) for t in dag["tasks"])
        reads = tuple(RuntimeRead(_text(r["kind"]), _text(r["name"]), Span(_text(r["path"]), _int(r["line"])))
                      for r in dag.get("reads", ()))
        workflow = Workflow(_text(dag["dag_id"]), Span(path, _int(dag["line"])), tasks=tasks, reads=reads)
        converted = dag["status"] == "converted"
        package = dag.get("code_package")
        dags.append(DagResult(workflow, tuple(_diagnostic(d) for d in dag["diagnostics"]),
                              RESTORED_YAML if converted else None, _text(dag["output"]) if converted else None,
                              package_from_dict(package) if converted and isinstance(package, dict) else None))
    return FileResult(path, FileStatus(raw["status"]), tuple(_diagnostic(d) for d in raw["diagnostics"]),  # type: ignore[attr-defined]
                      tuple(dags), entry.reads)


def _diagnostic(raw: Mapping[str, object]) -> Diagnostic:
    return Diagnostic(_text(raw["code"]), Severity(raw["severity"]), _text(raw["message"]),
                      Span(_text(raw["path"]), _int(raw["line"]), _int(raw["column"])),
                      raw["hint"] if isinstance(raw["hint"], str) else None)


def _text(value: object) -> str:
    """A string field of an entry; anything else makes the entry damaged (restore_result raises)."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _int(value: object) -> int:
    """A line or column: a non-negative int that is not a bool."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 31:
        raise ValueError(f"expected a line number, got {value!r}")
    return value


__all__ = ["is_output_name", "MANIFEST_NAME", "MAX_MANIFEST_BYTES", "Manifest", "RESTORED_YAML", "SourceEntry", "load_manifest",
           "reads_current", "restore_result", "settings_key", "sha256_text"]
