"""A run's settings: `[tool.dag-converter]` in pyproject.toml plus the command-line flags -> RunConfig.

The table means a pre-commit hook needs no arguments.

The nearest pyproject.toml with such a table above the working directory is used (or the file
given with --config). Never one found from the DAG folder being converted: a folder nobody has
reviewed must not choose where the output goes or which operators are allowed (issue 16). Command-line flags override every key. Relative
paths in the file (`output`, `exclude`) are relative to the folder holding pyproject.toml, as in
ruff and black, so the hook behaves the same from any subfolder.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Final

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from dag_converter.errors import ConfigError

TABLE: Final = "dag-converter"
REPORT_FORMATS: Final = ("json", "md", "html", "sarif")
DEFAULT_REPORT_FORMATS: Final = ("json", "md")
#: keys of [tool.dag-converter]; kebab-case like the flags, underscores accepted as in black
KEYS: Final = ("output", "target", "allow-operators", "exclude", "report-format", "max-file-size", "iam",
               "select", "ignore", "extend-ignore", "per-file-ignores", "airflowignore-syntax",
               "once-as", "code-package", "requirements", "build-deps", "vars", "env", "plugins")
IGNORE_SYNTAXES: Final = ("glob", "regexp")  #: Airflow's `[core] dag_ignore_file_syntax` values
DEFAULT_IGNORE_SYNTAX: Final = "glob"  #: Airflow 3's default (Airflow 2's was regexp)
DEFAULT_OUTPUT: Final = "output_yaml"  #: the AWS converter's default, so its users' scripts keep working
DEFAULT_TARGET: Final = "mwaa-serverless"
DEFAULT_MAX_FILE_SIZE: Final = 5 * 1024 * 1024  #: bytes; larger source files are refused (DC107)
REQUIREMENTS_MAX_SIZE: Final = 1024 * 1024  #: bytes of a --requirements file


@dataclass(frozen=True, slots=True)
class Config:
    """[tool.dag-converter] as typed values; None or () where the file does not set a key."""

    path: Path | None = None  #: the pyproject.toml read, None when there is none
    output: str | None = None  #: a local folder joined with the config's folder (shown relative to the cwd), or s3://
    target: str | None = None
    allow_operators: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  #: glob patterns, relative to `base`
    report_formats: tuple[str, ...] | None = None
    max_file_size: int | None = None
    iam: bool = False  #: `iam = true`: write each converted DAG's execution role (convert --iam)
    select: tuple[str, ...] = ()  #: rule selection (rules.py): codes or prefixes
    ignore: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  #: (glob, codes)
    airflowignore_syntax: str | None = None  #: "glob" or "regexp"
    once_as: str | None = None  #: "refuse" or "manual": what an @once schedule becomes
    code_package: bool | None = None  #: mwaa-serverless: ship the tasks' code in a code package
    requirements: str | None = None  #: a pip requirements/constraints file pinning the packages' requirements
    build_deps: bool | None = None  #: install each code package's requirements into it (pip)
    plugins: str | None = None  #: MWAA's plugins.zip: a local path joined with the config's folder, or s3://
    variables: tuple[tuple[str, str], ...] = ()  #: [tool.dag-converter.vars]: Variable values frozen at parse time
    environment: tuple[tuple[str, str], ...] = ()  #: [tool.dag-converter.env]: environment values likewise

    @property
    def base(self) -> Path:
        """The folder relative paths and exclude patterns are relative to."""
        return self.path.parent if self.path is not None else Path.cwd()


def find_config(start_points: Iterable[Path]) -> Path | None:
    """The nearest pyproject.toml with a [tool.dag-converter] table above any start point, in order."""
    for start in start_points:
        folder = start.resolve()
        if not folder.is_dir():
            folder = folder.parent
        for candidate in (folder, *folder.parents):
            pyproject = candidate / "pyproject.toml"
            if pyproject.is_file() and _has_table(pyproject):
                return pyproject
    return None


def _has_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        # A broken pyproject.toml that is not ours must not stop the search; an explicit
        # --config still reports the problem through load_config.
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and TABLE in tool


def load_config(pyproject: Path) -> Config:
    """Read and check [tool.dag-converter]; every problem is a ConfigError naming the file and key."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: invalid TOML: {exc}") from exc
    tool = data.get("tool", {})
    table = tool.get(TABLE, {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.{TABLE}] must be a table")
    return parse_table(table, pyproject)


def parse_table(table: Mapping[str, object], pyproject: Path) -> Config:
    values = {key.replace("_", "-"): value for key, value in table.items()}
    values.pop("deploy", None)  # [tool.dag-converter.deploy] belongs to `deploy` (dag_converter/deploy/command.py)
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise ConfigError(f"{pyproject}: unknown key(s) in [tool.{TABLE}]: {', '.join(unknown)} "
                          f"(known: {', '.join(KEYS)})")
    base = pyproject.parent
    def typed(key: str, kind: type, what: str, *, empty: bool = True) -> Any:
        """The key's value, None when absent; a ConfigError when it is not a `kind` (a bool is no number)."""
        value = values.get(key)
        if value is not None and (not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))
                                  or (not empty and not value)):
            raise ConfigError(f"{pyproject}: [tool.{TABLE}] {key} must be {what}")
        return value

    output = typed("output", str, "a string")
    target = typed("target", str, "a string")
    size = values.get("max-file-size")
    # bool is an int subclass; `max-file-size = true` is a mistake, not 1 byte.
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size <= 0):
        raise ConfigError(f"{pyproject}: [tool.{TABLE}] max-file-size must be a positive integer")
    syntax = values.get("airflowignore-syntax")
    if syntax is not None and syntax not in IGNORE_SYNTAXES:
        raise ConfigError(f"{pyproject}: [tool.{TABLE}] airflowignore-syntax must be one of "
                          f"{', '.join(IGNORE_SYNTAXES)} (Airflow's [core] dag_ignore_file_syntax)")
    formats = values.get("report-format")
    iam = bool(typed("iam", bool, "true or false"))
    once_as = values.get("once-as")
    if once_as is not None and once_as not in ("refuse", "manual"):
        raise ConfigError(f"{pyproject}: [tool.{TABLE}] once-as must be \"refuse\" or \"manual\"")
    code_package = typed("code-package", bool, "true or false")
    requirements = typed("requirements", str, "a string (a local file)")
    build_deps = typed("build-deps", bool, "true or false")
    plugins = typed("plugins", str, "a path or an s3:// URL of a zip", empty=False)
    return Config(
        path=pyproject,
        plugins=None if plugins is None else _local_or_uri(plugins, base),
        output=None if output is None else _local_or_uri(output, base),
        target=target,
        allow_operators=_strings(values.get("allow-operators", []), "allow-operators", pyproject),
        exclude=_strings(values.get("exclude", []), "exclude", pyproject),
        report_formats=None if formats is None else parse_report_formats(
            formats if isinstance(formats, str) else _strings(formats, "report-format", pyproject), str(pyproject)),
        max_file_size=size,
        iam=iam,
        select=_strings(values.get("select", []), "select", pyproject),
        ignore=_strings(values.get("ignore", []), "ignore", pyproject),
        extend_ignore=_strings(values.get("extend-ignore", []), "extend-ignore", pyproject),
        per_file_ignores=_per_file_ignores(values.get("per-file-ignores", {}), pyproject),
        airflowignore_syntax=syntax,  # type: ignore[arg-type]
        once_as=once_as,
        code_package=code_package,
        requirements=None if requirements is None else _local_or_uri(requirements, base),
        build_deps=build_deps,
        variables=_name_values(values.get("vars", {}), "vars", pyproject),
        environment=_name_values(values.get("env", {}), "env", pyproject),
    )


def _per_file_ignores(value: object, pyproject: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{pyproject}: [tool.{TABLE}] per-file-ignores must be a table of glob = [codes]")
    return tuple((str(pattern), _strings(selectors, f"per-file-ignores {pattern!r}", pyproject))
                 for pattern, selectors in sorted(value.items()))


def _name_values(value: object, key: str, pyproject: Path) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{pyproject}: [tool.{TABLE}.{key}] must be a table of strings")
    return tuple(sorted((str(k), v) for k, v in value.items()))


def parse_assignments(items: Sequence[str], flag: str) -> tuple[tuple[str, str], ...]:
    """`NAME=VALUE` flags as sorted pairs (a later one wins); raises ConfigError."""
    pairs: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise ConfigError(f"{flag} {item!r}: expected NAME=VALUE")
        pairs[name] = value
    return tuple(sorted(pairs.items()))


def _merged(base: tuple[tuple[str, str], ...], flags: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({**dict(base), **dict(flags)}.items()))


def _local_or_uri(output: str, base: Path) -> str:
    if "://" in output or os.path.isabs(output):
        return output
    joined = base / output
    try:
        relative = os.path.relpath(joined)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(joined)
    return str(joined) if relative.startswith("..") else relative


def _strings(value: object, key: str, pyproject: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{pyproject}: [tool.{TABLE}] {key} must be a list of strings")
    return tuple(value)


def parse_report_formats(value: str | Sequence[str], where: str = "--report-format") -> tuple[str, ...]:
    """`json,md,html` or a list of names -> a de-duplicated tuple; `none` (alone) means no report."""
    names = [n.strip().lower() for n in (value.split(",") if isinstance(value, str) else value)]
    names = [n for n in names if n]
    if names == ["none"]:
        return ()
    unknown = [n for n in names if n not in REPORT_FORMATS]
    if unknown:
        raise ConfigError(f"{where}: unknown report format(s) {', '.join(unknown)} "
                          f"(choose from {', '.join(REPORT_FORMATS)}, or none)")
    return tuple(dict.fromkeys(names))


def is_excluded(path: Path, patterns: Sequence[str], base: Path) -> bool:
    """True when `path`, relative to `base`, matches a glob pattern or lies in a matching folder.

    `dags/legacy` and `dags/legacy/*` both exclude everything below dags/legacy; `*_test.py`
    matches a file name in any folder, as in .gitignore.
    """
    if not patterns:
        return False
    try:
        relative = Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:  # pragma: no cover - another drive on Windows: never below base
        return False
    parts = relative.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        pattern = pattern.strip("/")
        if "/" not in pattern:
            if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
                return True
        elif any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            return True
    return False


class Mode(str, Enum):
    """What a run does with the YAML it converts (black's WriteBack): one driver, four modes."""

    WRITE = "write"  #: write what changed, update the manifest and reports
    CHECK = "check"  #: write nothing; a stale or missing YAML is an error (DC114/DC115)
    DIFF = "diff"  #: write nothing; print a unified diff of every YAML that would change
    FAIL_ON_CHANGE = "fail-on-change"  #: write like WRITE, and fail when a YAML was created or changed

    @classmethod
    def from_flags(cls, *, check: bool = False, diff: bool = False, fail_on_change: bool = False) -> "Mode":
        """--diff wins over --check (both write nothing; --diff also prints), which wins over
        --fail-on-change."""
        if diff:
            return cls.DIFF
        if check:
            return cls.CHECK
        return cls.FAIL_ON_CHANGE if fail_on_change else cls.WRITE

    @property
    def writes(self) -> bool:
        """Whether the run writes YAML, the manifest and reports."""
        return self in (Mode.WRITE, Mode.FAIL_ON_CHANGE)


@dataclass(frozen=True, slots=True)
class RoleSettings:
    """Where the execution roles of `convert --iam` are used (the options of `dag-converter iam`)."""

    account: str = "*"  #: AWS account id for the ARNs; "*": any
    region: str = "*"
    partition: str = "aws"
    definition_bucket: str | None = None  #: bucket of the definitions (None: the S3 output's, else any)
    kms_key: str | None = None
    #: key prefix of the definitions in definition_bucket ("" or ending in "/"; None: <dag_id>.yaml at the top),
    #: as deploy --definitions puts them (migrate sets it)
    definition_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything a run needs, flags and [tool.dag-converter] merged; what batch.run() takes."""

    paths: tuple[str, ...]  #: local files and folders, s3:// URLs
    output: str = DEFAULT_OUTPUT  #: local folder or s3:// folder
    target: str = DEFAULT_TARGET
    allow_operators: tuple[str, ...] = ()
    dags_folder: str | None = None  #: dag-factory target: where the YAML is loaded
    once_as: str = "refuse"  #: what an @once schedule becomes: refused, or an unscheduled workflow
    excludes: tuple[str, ...] = ()  #: globs relative to `base`
    base: Path | None = None  #: the config's folder (None: the working directory)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    report_formats: tuple[str, ...] = DEFAULT_REPORT_FORMATS
    mode: Mode = Mode.WRITE
    jobs: int | None = None  #: None: the CPU count
    force: bool = False  #: ignore the manifest: convert and write everything
    prune: bool = False  #: remove YAML the manifest says was written from a source that no longer defines its DAG
    verify: bool = False  #: prove each DAG with Airflow before writing it (runs the DAG files)
    bucket: str | None = None  #: also upload each YAML to s3://bucket/
    report_dir: str | None = None  #: also write the reports to this local folder
    endpoint_url: str | None = None  #: S3 endpoint
    today: date | None = None  #: pins relative start dates (None: DAG_CONVERTER_TODAY or the date)
    variables: tuple[tuple[str, str], ...] = ()  #: --var and [tool.dag-converter.vars]
    environment: tuple[tuple[str, str], ...] = ()  #: --env and [tool.dag-converter.env]
    config_path: Path | None = None  #: the pyproject.toml read, for messages
    iam: RoleSettings | None = None  #: convert --iam: write <dag_id>.iam.json beside each YAML
    select: tuple[str, ...] = ()  #: rule selection (rules.py), flags over the config
    ignore: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    airflowignore_syntax: str = DEFAULT_IGNORE_SYNTAX  #: how .airflowignore lines are read: glob or regexp
    #: --requirements: (the file as named, its text): versions for the code packages' requirements.txt
    requirements: tuple[str, str] | None = None
    build_deps: bool = False  #: --build-deps: install each code package's requirements into it with pip
    #: MWAA's plugins.zip (a local path or s3:// URL): a module root behind the DAG folder (--plugins)
    plugins: str | None = None
    plugins_version: str | None = None  #: the S3 object version of `plugins` to read (migrate: the environment's)

    @property
    def target_origin(self) -> str:
        """Where the target name came from, for an error message."""
        return str(self.config_path) if self.config_path is not None else "--target"


#: --code-package selects the target variant that ships the tasks' code (targets/mwaa_serverless_code.py).
CODE_PACKAGE_TARGETS: Final = {"mwaa-serverless": "mwaa-serverless-code", "mwaa-serverless-code": "mwaa-serverless-code"}


def code_package_target(target: str, code_package: bool) -> str:
    """The target to run: with --code-package (or `code-package = true`), its code-package variant."""
    if not code_package:
        return target
    if target not in CODE_PACKAGE_TARGETS:
        raise ConfigError(f"--code-package is for the mwaa-serverless target, not {target!r}")
    return CODE_PACKAGE_TARGETS[target]


def run_config(paths: Sequence[str], *, config_file: Path | None = None, output: str | None = None,
               target: str | None = None, allow_operators: Sequence[str] = (), excludes: Sequence[str] = (),
               max_file_size: int | None = None, report_format: str | None = None, once_as: str | None = None,
               check: bool = False, diff: bool = False, fail_on_change: bool = False,
               iam: bool = False, role_settings: RoleSettings | None = None,
               select: Sequence[str] = (), ignore: Sequence[str] = (), extend_ignore: Sequence[str] = (),
               code_package: bool = False, variables: Sequence[str] = (), environment: Sequence[str] = (),
               requirements: str | None = None, build_deps: bool = False, plugins: str | None = None,
               **rest: object) -> RunConfig:
    """Flags over [tool.dag-converter], key by key; a repeatable flag replaces the whole list.
    The table comes from `config_file`, else the nearest pyproject.toml with one above the working
    directory (never from the paths being converted: they are not trusted). `rest` are flags with no
    config key (jobs, force, bucket, ...), passed to RunConfig as they are. `role_settings` (the iam
    options) apply with --iam or `iam = true`. Raises ConfigError."""
    if config_file is not None:
        config = load_config(config_file)
    else:
        found = find_config([Path.cwd()])
        config = load_config(found) if found is not None else Config()
    if role_settings is not None and not (iam or config.iam):
        raise ConfigError("--account, --region, --partition, --definition-bucket and --kms-key go with --iam "
                          "(or iam = true in [tool.dag-converter])")
    formats = (parse_report_formats(report_format) if report_format is not None
               else config.report_formats if config.report_formats is not None else DEFAULT_REPORT_FORMATS)
    chosen = code_package_target(target or config.target or DEFAULT_TARGET, code_package or bool(config.code_package))
    deps = build_deps or bool(config.build_deps)
    if deps and chosen not in CODE_PACKAGE_TARGETS.values():
        raise ConfigError("--build-deps goes with --code-package (it installs the code packages' requirements)")
    requirements_file = requirements or config.requirements
    return RunConfig(
        paths=tuple(paths),
        output=output or config.output or DEFAULT_OUTPUT,
        target=chosen,
        allow_operators=tuple(allow_operators or config.allow_operators),
        excludes=tuple(excludes or config.exclude),
        base=config.base,
        max_file_size=max_file_size if max_file_size is not None else config.max_file_size or DEFAULT_MAX_FILE_SIZE,
        report_formats=formats,
        once_as=once_as or config.once_as or "refuse",
        mode=Mode.from_flags(check=check, diff=diff, fail_on_change=fail_on_change),
        config_path=config.path,
        iam=(role_settings or RoleSettings()) if iam or config.iam else None,
        select=_split(select) or config.select,
        ignore=_split(ignore) or config.ignore,
        extend_ignore=(*config.extend_ignore, *_split(extend_ignore)),
        per_file_ignores=config.per_file_ignores,
        airflowignore_syntax=config.airflowignore_syntax or DEFAULT_IGNORE_SYNTAX,
        variables=_merged(config.variables, parse_assignments(variables, "--var")),
        environment=_merged(config.environment, parse_assignments(environment, "--env")),
        requirements=read_requirements(requirements_file) if requirements_file else None,
        build_deps=deps,
        plugins=plugins or config.plugins,
        **rest,  # type: ignore[arg-type]
    )


def read_requirements(path: str) -> tuple[str, str]:
    """(path, text) of a --requirements file: a local file of at most REQUIREMENTS_MAX_SIZE bytes, UTF-8."""
    if "://" in path:
        raise ConfigError(f"--requirements {path}: a local file is expected")
    if not os.path.isfile(path):
        raise ConfigError(f"--requirements {path}: no such file")
    try:
        with open(path, "rb") as handle:
            data = handle.read(REQUIREMENTS_MAX_SIZE + 1)
    except OSError as exc:
        raise ConfigError(f"--requirements {path}: cannot read it: {exc.strerror or exc}") from exc
    if len(data) > REQUIREMENTS_MAX_SIZE:
        raise ConfigError(f"--requirements {path}: larger than {REQUIREMENTS_MAX_SIZE} bytes")
    try:
        return path, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"--requirements {path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc


def _split(values: Sequence[str]) -> tuple[str, ...]:
    """Repeated flags and comma-separated lists alike: `--ignore DC202,DC4 --ignore DC5`."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


__all__ = ["Config", "ConfigError", "DEFAULT_MAX_FILE_SIZE", "DEFAULT_OUTPUT", "DEFAULT_REPORT_FORMATS",
           "DEFAULT_TARGET",
           "Mode", "REPORT_FORMATS", "RoleSettings", "RunConfig", "find_config", "is_excluded", "load_config", "parse_report_formats",
           "run_config"]
