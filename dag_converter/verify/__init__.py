"""Round-trip verification: prove a YAML file builds the same DAG as the Python file it came from.

This is the only module of dag-converter that imports Apache Airflow and runs user code, and it
does so only when asked to check a conversion (`dag-converter verify`, `convert --verify`). The
Python file is loaded with Airflow's own `DagBag`, each YAML with dag-factory, exactly the versions
MWAA Serverless runs (the `verify` extra pins them), and the two DAG objects are compared field by
field. Airflow is imported lazily inside functions, so importing this module costs nothing and
works without the extra installed.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import enum
import functools
import importlib
import inspect
import logging
import os
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dag_converter.errors import VerifyUnavailable
from dag_converter.verify import _templates

if TYPE_CHECKING:
    from dag_converter.model import FileResult

__all__ = [
    "Difference",
    "SourceLoadError",
    "VerifyUnavailable",
    "YamlLoadError",
    "format_differences",
    "require_verify_extra",
    "verify",
    "verify_result",
]

INSTALL_HINT = 'pip install "dag-converter[verify]"'

#: `Difference.python`/`.yaml` for a DAG or task that exists on one side only.
PRESENT = "present"
MISSING = "missing"



class SourceLoadError(Exception):
    """Airflow could not import the Python DAG file; a one-line message naming file and cause."""


class YamlLoadError(Exception):
    """dag-factory could not build a DAG from a YAML file; the message is one line."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One way in which the DAG built from YAML differs from the DAG built from Python."""

    dag_id: str
    task_id: str | None  #: None for a DAG-level field
    field: str  #: "dag" or "task" (exists on one side only), "operator", "upstream", an argument
    python: str  #: the value on the Python side, shown as repr of the normalised value
    yaml: str  #: the value on the YAML side, same form

    @property
    def message(self) -> str:
        where = f"dag {self.dag_id!r}"
        if self.task_id is not None:
            where += f" task {self.task_id!r}"
        if self.field in ("dag", "task") and MISSING in (self.python, self.yaml):
            side = "yaml" if self.yaml == MISSING else "python"
            return f"{where}: {self.field} missing from {side}"
        return f"{where}: {self.field} differs: python {self.python} vs yaml {self.yaml}"


def format_differences(diffs: Sequence[Difference]) -> list[str]:
    """One line per difference, in the order `verify` returned them."""
    return [diff.message for diff in diffs]


def verify(
    py_file: Path, yaml_files: Sequence[Path], *, expect_all: bool = False, task_groups: bool = False,
    code_packages: Mapping[str, bytes] | None = None, plugins: bytes | None = None,
) -> list[Difference]:
    """Load `py_file` with Airflow and `yaml_files` with dag-factory; return how they differ.

    An empty list means every DAG in the YAML files builds the same DAG as the Python file. A DAG
    of the Python file without YAML counts as a difference only with `expect_all` (the caller may
    verify one converted DAG of a file that holds several); a YAML DAG without a Python DAG always
    counts. Raises `VerifyUnavailable`, `SourceLoadError` or `YamlLoadError`. With `task_groups`
    (the dag-factory target keeps them; MWAA Serverless YAML flattens them on purpose) the task
    groups are compared too: ids, nesting, tooltips and default_args.

    A YAML with a code package (`code_packages[yaml name]`, else `<dag_id>.code.zip` beside it) is
    loaded as the service loads it: the package extracted into a folder on sys.path, the DAG
    folder not on it, so each callable and class comes from the package. Callables are compared by
    module (the generated module standing for the DAG file it was taken from), name and code.

    A templated field that names a template file (`query="sql/daily.sql"`) is compared as both sides
    render it (verify/_templates.py): the Python DAG's from the DAG file's folder and
    template_searchpath, the YAML DAG's from its own DAG folder on the service, which holds the
    code package's files or, without one, none of the DAG folder's.

    `plugins` (MWAA's plugins.zip, convert --plugins) is extracted into a folder on sys.path behind
    the DAG folder while the Python file loads, as on the environment; its modules are then
    forgotten, so the YAML side finds only what its code package ships.
    """
    _require_airflow()
    _MODULE_ALIASES.clear()
    templates = _templates.TemplateFiles()
    with contextlib.ExitStack() as keep:  # the YAML DAGs' folders, read again when rendering
        plugins_dir, plugin_modules = None, []
        if plugins is not None:
            plugins_dir = keep.enter_context(tempfile.TemporaryDirectory(prefix="dag-converter-plugins-"))
            try:
                plugin_modules = _extract_package(plugins, Path(plugins_dir))
            except YamlLoadError as exc:
                raise SourceLoadError(f"the plugins archive cannot be read: {exc}") from None
        try:
            py_dags = _load_python(Path(py_file), templates, plugins_dir)
        finally:
            _forget_modules(plugin_modules)
        yaml_dags: dict[str, Any] = {}
        origin: dict[str, Path] = {}
        for yaml_file in map(Path, yaml_files):
            package = (code_packages or {}).get(yaml_file.name)
            if package is None:
                beside = yaml_file.with_name(yaml_file.name.removesuffix(".yaml") + PACKAGE_SUFFIX)
                package = beside.read_bytes() if yaml_file.name.endswith(".yaml") and beside.is_file() else None
            loaded = _load_yaml(yaml_file, Path(py_file), package, keep=keep, templates=templates)
            for dag_id, dag in loaded.items():
                if dag_id in origin:
                    raise YamlLoadError(f"{yaml_file}: dag {dag_id!r} is also in {origin[dag_id]}")
                yaml_dags[dag_id], origin[dag_id] = dag, yaml_file

        diffs: list[Difference] = []
        for dag_id in [*py_dags, *sorted(yaml_dags.keys() - py_dags.keys())]:
            if dag_id not in yaml_dags:
                if expect_all:
                    diffs.append(Difference(dag_id, None, "dag", PRESENT, MISSING))
            elif dag_id not in py_dags:
                diffs.append(Difference(dag_id, None, "dag", MISSING, PRESENT))
            else:
                diffs.extend(_compare_dags(dag_id, py_dags[dag_id], yaml_dags[dag_id], templates))
                if task_groups:
                    py_groups, yaml_groups = _groups(py_dags[dag_id]), _groups(yaml_dags[dag_id])
                    if py_groups != yaml_groups:
                        diffs.append(Difference(dag_id, None, "task_groups", _show(py_groups), _show(yaml_groups)))
    return diffs


# ---------------------------------------------------------------------------------------------
# Loading

# Airflow reads its configuration once, when `airflow` is first imported, so these must be in the
# environment before that. Values the user already set win.
_ENV_DEFAULTS = {
    # DagBag would otherwise also parse Airflow's example DAGs.
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    # Airflow configures logging at import and logs every provider it discovers at INFO.
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    # dag-factory's telemetry listener only fires on DAG runs, which verify never starts; set it
    # anyway so no code path can call out to the network.
    "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",
}


def require_verify_extra() -> None:
    """Raise VerifyUnavailable, naming what to install, when Airflow or dag-factory is missing."""
    _require_airflow()


def _require_airflow() -> None:
    if "airflow" not in sys.modules:
        for key, value in _ENV_DEFAULTS.items():
            os.environ.setdefault(key, value)
        if "AIRFLOW_HOME" not in os.environ:
            # Without AIRFLOW_HOME, importing Airflow creates ~/airflow with an airflow.cfg in
            # it; verifying a conversion must not leave an Airflow installation behind.
            home = tempfile.mkdtemp(prefix="dag-converter-airflow-")
            atexit.register(shutil.rmtree, home, ignore_errors=True)
            os.environ["AIRFLOW_HOME"] = home
    try:
        with _quiet():
            for module in ("airflow.configuration", "airflow.models.dagbag", "dagfactory"):
                importlib.import_module(module)
                # airflow.configuration adds filters that show Airflow's DeprecationWarnings
                # (unless python -W was given); put "ignore" back in front of them.
                warnings.simplefilter("ignore")
    except ImportError as exc:
        raise VerifyUnavailable(
            f"verify needs Apache Airflow and dag-factory ({exc}); install them with: "
            f"{INSTALL_HINT}"
        ) from None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Airflow's and dag-factory's logging and deprecation warnings while loading.

    DagBag logs every import error with a full traceback at ERROR, and legacy class paths such
    as `airflow.operators.empty.EmptyOperator` warn on every use; verify reports both its own way.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def _load_python(py_file: Path, templates: _templates.TemplateFiles | None = None,
                 plugins_dir: str | None = None) -> dict[str, Any]:
    from airflow.models.dagbag import DagBag

    class _Bag(DagBag):
        def bag_dag(self, dag: Any) -> None:
            # bag_dag replaces template file names with the files' text: note which fields named one.
            if templates is not None:
                templates.record("python", dag)
            super().bag_dag(dag)

    if not py_file.is_file():
        raise SourceLoadError(f"{py_file}: no such file")
    # Airflow puts the dags folder on sys.path (on MWAA, /usr/local/airflow/dags), so DAG files
    # import helper modules that sit beside them; DagBag given a single file does not.
    folder = str(py_file.resolve().parent)
    added = [path for path in (folder, plugins_dir) if path is not None and path not in sys.path]
    sys.path[0:0] = added  # the DAG folder, then the plugins folder (Airflow 2's order on MWAA)
    try:
        # safe_mode=False: DagBag would otherwise skip, without importing, a file that does not
        # contain both the strings "airflow" and "dag"; the caller says this file holds DAGs.
        with _quiet():
            bag = _Bag(dag_folder=str(py_file), include_examples=False, safe_mode=False)
    finally:
        for path in added:
            sys.path.remove(path)
    if bag.import_errors:
        trace = next(iter(bag.import_errors.values()))
        raise SourceLoadError(f"{py_file}: Airflow cannot import it: {_cause(trace, py_file)}")
    return dict(bag.dags)


def _cause(trace: str, py_file: Path) -> str:
    """The last line of a traceback, plus the line of `py_file` it was raised from."""
    lines = [line.strip() for line in trace.strip().splitlines() if line.strip()]
    cause = lines[-1] if lines else "unknown error"
    frames = re.findall(r'File "([^"]+)", line (\d+)', trace)
    own = [line for path, line in frames if Path(path).name == py_file.name]
    return f"{cause} (line {own[-1]})" if own else cause


def _groups(dag: Any) -> dict[str, Any]:
    """Each task group by id: its parent, tooltip and own default_args (the root group left out)."""
    found = {}
    for group_id, group in (getattr(dag, "task_group_dict", None) or {}).items():
        parent = group.parent_group.group_id if group.parent_group is not None else None
        found[group_id] = {"parent": parent, "tooltip": group.tooltip,
                           "default_args": _norm(getattr(group, "default_args", None) or {})}
    return found


PACKAGE_SUFFIX = ".code.zip"  #: `<dag_id>.code.zip` beside `<dag_id>.yaml` (convert --code-package)
_GENERATED_HEADER = re.compile(r'^"""Task code of .*, taken from (?P<source>\S+) by dag-converter')

#: generated module of a code package -> the DAG file's module it stands for (set while verifying)
_MODULE_ALIASES: dict[str, str] = {}


def _extract_package(data: bytes, folder: Path) -> list[str]:
    """The package's files under `folder` (no member outside it); its top-level module names."""
    import io
    import zipfile

    tops: set[str] = set()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        for info in archive.infolist():
            parts = info.filename.split("/")
            if info.filename.startswith("/") or ".." in parts or info.is_dir():
                continue
            target = folder.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            tops.add(parts[0].removesuffix(".py"))
            if len(parts) == 1 and parts[0].endswith(".py"):
                match = _GENERATED_HEADER.match(target.read_text(encoding="utf-8", errors="replace"))
                if match:
                    _MODULE_ALIASES[parts[0][:-3]] = Path(match["source"]).stem
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise YamlLoadError(f"the code package cannot be read: {exc}") from None
    return sorted(tops)


def _forget_modules(names: Sequence[str]) -> None:
    """Drop imported modules of these top-level names, so the next import reads them afresh
    (the Python side imported the DAG folder's copies; the YAML side must get the package's)."""
    for module in list(sys.modules):
        if module.split(".")[0] in names:
            del sys.modules[module]


#: The file the service's DagBag imports to build the YAML DAGs; DagBag makes it each DAG's fileloc,
#: so its folder is where templated files (`bash_command: scripts/load.sh`, `{% include %}`) are found.
_LOADER = "dag_factory_loader.py"


def _load_yaml(yaml_file: Path, py_file: Path | None = None, package: bytes | None = None, *,
               keep: contextlib.ExitStack | None = None,
               templates: _templates.TemplateFiles | None = None) -> dict[str, Any]:
    """The DAGs of `yaml_file`, each with the service's DAG folder as its folder: the code package's
    files when there is one, else an empty folder (the service has none of the DAG folder's files).
    The folder lives as long as `keep`, else until this returns."""
    with contextlib.ExitStack() as own:
        dags = Path((keep or own).enter_context(tempfile.TemporaryDirectory(prefix="dag-converter-dags-")))
        tops = _extract_package(package, dags) if package is not None else []
        _forget_modules(tops)
        try:
            # With a package, its folder is on sys.path and the source DAG folder is not, as on the service.
            loaded = _load_yaml_with_path(yaml_file, dags / "_" if package is not None else py_file)
            for dag in loaded.values():
                dag.fileloc = str(dags / _LOADER)
                if templates is not None:
                    templates.record("yaml", dag)
                # What DagBag.bag_dag does to every DAG it loads, the Python side's included.
                with _quiet():
                    dag.resolve_template_files()
            return loaded
        finally:
            _forget_modules(tops)


def _load_yaml_with_path(yaml_file: Path, py_file: Path | None = None) -> dict[str, Any]:
    from airflow.sdk.definitions.dag import DAG
    from dagfactory import load_yaml_dags

    if not yaml_file.is_file():
        raise YamlLoadError(f"{yaml_file}: no such file")
    with tempfile.TemporaryDirectory(prefix="dag-converter-verify-") as folder:
        # MWAA Serverless snapshots this one file. dag-factory would also merge a defaults.yml
        # found beside the YAML or in the dags folder, so build a copy in an empty folder.
        copy = Path(folder) / yaml_file.name
        shutil.copyfile(yaml_file, copy)
        namespace: dict[str, Any] = {}
        # Airflow puts the dags folder on sys.path: `python_callable: helpers.f` imports modules
        # beside the DAG file, as the Python side does (see _load_python).
        beside = str(py_file.parent.resolve()) if py_file is not None else None
        added = beside is not None and beside not in sys.path
        if added:
            sys.path.insert(0, beside)  # type: ignore[arg-type]
        try:
            with _quiet():
                load_yaml_dags(
                    globals_dict=namespace,
                    dags_folder=folder,
                    config_filepath=str(copy),
                    defaults_config_path=folder,
                )
        except Exception as exc:  # dag-factory raises anything from KeyError to TypeError
            detail = " ".join(str(exc).split()) or "(no message)"
            raise YamlLoadError(
                f"{yaml_file}: dag-factory cannot build it: {type(exc).__name__}: {detail}"
            ) from None
        finally:
            if added:
                sys.path.remove(beside)  # type: ignore[arg-type]
    return {dag.dag_id: dag for dag in namespace.values() if isinstance(dag, DAG)}


# ---------------------------------------------------------------------------------------------
# Comparing

# Parameters that are not operator arguments in the YAML sense: identity and context (task_id,
# dag, task_group; groups are flattened to `group.task` ids), and what is compared on its own
# (params, as the merged ParamsDict) or through its effect on other fields (default_args).
_NOT_ARGUMENTS = frozenset({"task_id", "dag", "task_group", "params", "default_args"})

# Compared for every task whether or not anything passed them: their effective values combine
# operator arguments, default_args (DAG and task group) and the DAG's own dates.
_EFFECTIVE = (
    "retries",
    "retry_delay",
    "execution_timeout",
    "trigger_rule",
    "start_date",
    "end_date",
)

_YAML_DOC_HEADING = "## YML DAG\n```yaml\n"


def _compare_dags(dag_id: str, py_dag: Any, yaml_dag: Any,
                  templates: _templates.TemplateFiles | None = None) -> Iterator[Difference]:
    py_fields, yaml_fields = _dag_fields(py_dag), _dag_fields(yaml_dag, from_yaml=True)
    for name, py_value in py_fields.items():
        if name == "schedule" and py_value != yaml_fields[name] and _same_runs(py_dag, yaml_dag):
            continue
        if py_value != yaml_fields[name]:
            yield Difference(dag_id, None, name, _show(py_value), _show(yaml_fields[name]))

    py_tasks, yaml_tasks = py_dag.task_dict, yaml_dag.task_dict
    interval = _templates.data_interval(py_dag)  # one run, the same on both sides
    for task_id in [*py_tasks, *[t for t in yaml_tasks if t not in py_tasks]]:
        if task_id not in yaml_tasks:
            yield Difference(dag_id, task_id, "task", PRESENT, MISSING)
        elif task_id not in py_tasks:
            yield Difference(dag_id, task_id, "task", MISSING, PRESENT)
        else:
            yield from _compare_tasks(
                dag_id,
                task_id,
                _TaskView(py_tasks[task_id], py_dag, py_fields),
                _TaskView(yaml_tasks[task_id], yaml_dag, yaml_fields),
                templates.of(dag_id, task_id) if templates is not None else frozenset(),
                interval,
            )


def _dag_fields(dag: Any, *, from_yaml: bool = False) -> dict[str, Any]:
    # dag-factory appends a "dagfactory" tag to every DAG; tags only filter the UI.
    tags = sorted(set(dag.tags or ()) - {"dagfactory"})
    doc_md = dag.doc_md
    if from_yaml and doc_md:
        # dag-factory appends the YAML source under "## YML DAG" to doc_md (creating it when
        # unset); documentation only, so compare what precedes it.
        if doc_md.startswith(_YAML_DOC_HEADING):
            doc_md = None
        elif "\n" + _YAML_DOC_HEADING in doc_md:
            doc_md = doc_md[: doc_md.index("\n" + _YAML_DOC_HEADING)]
    return {
        "description": dag.description,
        "schedule": _timetable(dag.timetable),
        # The zone the cron runs in; dag-factory's `timezone` key must reproduce the source's.
        "timezone": getattr(dag.timezone, "name", str(dag.timezone)),
        **_time_restriction(dag),
        "catchup": dag.catchup,
        "params": _norm(dag.params),
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "dagrun_timeout": _norm(dag.dagrun_timeout),
        "render_template_as_native_obj": dag.render_template_as_native_obj,
        "tags": tags,
        "doc_md": doc_md,
    }


def _time_restriction(dag: Any) -> dict[str, Any]:
    """The first and last instants the scheduler may run the DAG for, as UTC instants.

    Not the raw DAG attributes: DAG() takes its start_date from default_args only when the
    argument is omitted, and dag-factory always passes `start_date=None` when the YAML has none
    at DAG level, so a default_args start_date leaves the YAML DAG's own start_date unset. The
    scheduler uses the earliest of the DAG's and its tasks' start dates and, when every task has
    one, the latest end date (airflow/models/dag.py, DAG._time_restriction), so compare that.
    """
    start_dates = [task.start_date for task in dag.tasks if task.start_date]
    if dag.start_date is not None:
        start_dates.append(dag.start_date)
    latest = dag.end_date
    end_dates = [task.end_date for task in dag.tasks if task.end_date]
    if end_dates and len(end_dates) == len(dag.tasks):
        if dag.end_date is not None:
            end_dates.append(dag.end_date)
        latest = max(end_dates)
    earliest = min(start_dates) if start_dates else None
    return {"start_date": _norm(earliest), "end_date": _norm(latest)}


#: How many scheduled runs `_same_runs` compares: 100 hourly runs are four days, 100 weekly
#: runs two years, enough to see a different hour, weekday or day of month.
_RUNS_COMPARED = 100


def _same_runs(py_dag: Any, yaml_dag: Any) -> bool:
    """Whether two differently written schedules produce the same runs.

    The converter rewrites what MWAA Serverless cannot take (a timedelta schedule becomes a cron,
    presets may become crons); Airflow then builds another timetable class. Equal runs, each
    with the same logical date, data interval and run-after instant, are equal behaviour.
    Compared from the effective start date with catchup on, so "now" plays no part.
    """
    from airflow.timetables.base import TimeRestriction
    from airflow.utils.timezone import coerce_datetime

    def runs(dag: Any) -> list[tuple[Any, ...]]:
        window = _time_restriction(dag)
        # Cron timetables need pendulum instants (they call in_timezone), like the scheduler's.
        earliest, latest = (
            coerce_datetime(w.key) if w is not None else None for w in window.values()
        )
        restriction = TimeRestriction(earliest, latest, True)
        found: list[tuple[Any, ...]] = []
        last = None
        for _ in range(_RUNS_COMPARED):
            info = dag.timetable.next_dagrun_info(
                last_automated_data_interval=last, restriction=restriction
            )
            if info is None:
                break
            interval = info.data_interval
            instants = (info.logical_date, interval.start, interval.end, info.run_after)
            found.append(tuple(_norm(v) for v in instants))
            last = interval
        return found

    try:
        return runs(py_dag) == runs(yaml_dag)
    except Exception:  # pragma: no cover - a timetable that cannot plan without a database
        return False


def _timetable(timetable: Any) -> _Shown:
    """A timetable as its class and serialised form: the cron, its zone and its options.

    dag-factory passes a cron string to DAG() like Python does, or builds the timetable from a
    `__type__` mapping; either way both sides end up as the same timetable object.
    """
    path = _class_path(type(timetable))
    try:
        detail = repr(_norm(timetable.serialize()))
    except Exception:  # pragma: no cover - timetables that cannot serialise; fall back to summary
        detail = repr(timetable.summary)
    return _Shown("timetable", f"{path}{detail}", f"{type(timetable).__name__}({detail})")


@dataclass(frozen=True, slots=True)
class _TaskView:
    """A task with the DAG it belongs to, to tell its own values from inherited ones."""

    task: Any
    dag: Any
    dag_fields: Mapping[str, Any]

    def value(self, name: str) -> Any:
        value = _argument(self.task, name)
        if name in ("start_date", "end_date") and value == self.dag_fields[name]:
            # Every task inherits the DAG's dates (DAG.add_task); a difference there is already
            # reported once for the DAG, so only a task's own, different date counts here.
            return _INHERITED
        return value

    def own_params(self) -> Any:
        # A task's params are the DAG's merged with its own; the DAG's are compared once.
        dag_params = _norm(self.dag.params)
        task_params = _norm(self.task.params)
        return {k: v for k, v in task_params.items() if dag_params.get(k, _NOT_SET) != v}


def _compare_tasks(
    dag_id: str, task_id: str, py_view: _TaskView, yaml_view: _TaskView,
    template_files: frozenset[str] = frozenset(),
    interval: tuple[_dt.datetime, _dt.datetime] = (_templates.RENDERED_AT, _templates.RENDERED_AT),
) -> Iterator[Difference]:
    py_task, yaml_task = py_view.task, yaml_view.task

    def diff(name: str, py_value: Any, yaml_value: Any) -> Difference | None:
        if py_value == yaml_value:
            return None
        return Difference(dag_id, task_id, name, _show(py_value), _show(yaml_value))

    checks = [
        diff("operator", _operator_path(py_task), _operator_path(yaml_task)),
        diff("upstream", sorted(py_task.upstream_task_ids), sorted(yaml_task.upstream_task_ids)),
    ]
    names = _argument_names(py_task) | _argument_names(yaml_task) | set(_EFFECTIVE)
    py_call, yaml_call = _call_arguments(py_task), _call_arguments(yaml_task)
    if py_call is not None and yaml_call is not None:
        # `f(a)` in a TaskFlow DAG passes op_args, dag-factory's `x: +a` op_kwargs: the same call.
        names -= {"op_args", "op_kwargs", "kwargs_to_upstream"}  # kwargs_to_upstream holds the same
        checks.append(diff("call arguments", py_call, yaml_call))
    for name in sorted(names - _NOT_ARGUMENTS):
        if name in template_files:
            rendered = _compare_rendered(dag_id, task_id, name, py_task, yaml_task, interval)
            if rendered is not _NOT_RENDERED:
                checks.append(rendered)
                continue
        checks.append(diff(name, py_view.value(name), yaml_view.value(name)))
    checks.append(diff("params", py_view.own_params(), yaml_view.own_params()))
    for name in sorted(_expanded(py_task).keys() | _expanded(yaml_task).keys()):
        checks.append(
            diff(
                f"expand {name}",
                _norm(_expanded(py_task).get(name, _NOT_SET)),
                _norm(_expanded(yaml_task).get(name, _NOT_SET)),
            )
        )
    yield from (check for check in checks if check is not None)


def _compare_rendered(dag_id: str, task_id: str, name: str, py_task: Any, yaml_task: Any,
                      interval: tuple[_dt.datetime, _dt.datetime]) -> Any:
    """The difference between what a template-file field renders to on each side, None when they
    render alike, or _NOT_RENDERED when neither side renders (the values are then compared as they are)."""
    with _quiet():
        python = _templates.render(py_task, name, interval)
        yaml = _templates.render(yaml_task, name, interval, folder_name="<the service's DAG folder>")
    if python.error is not None and yaml.error is not None:
        return _NOT_RENDERED
    if python.error is None and yaml.error is None and _norm(python.value) == _norm(yaml.value):
        return None
    py_shown, yaml_shown = _templates.shown(python, yaml, lambda value: _show(_norm(value)))
    return Difference(dag_id, task_id, f"{name} (rendered template file)", py_shown, yaml_shown)


_NOT_RENDERED: Any = object()


def _call_arguments(task: Any) -> Any:
    """What a Python task's callable is called with, bound to its parameters; None for other tasks."""
    function = getattr(task, "python_callable", None)
    if not callable(function) or not hasattr(task, "op_args") or _is_mapped(task):
        return None
    try:
        bound = inspect.signature(function).bind_partial(*(task.op_args or ()), **(task.op_kwargs or {}))
    except (TypeError, ValueError):
        return None
    return _norm(dict(bound.arguments))


def _code_identity(code: Any, depth: int = 0) -> Any:
    """A code object as what it runs: bytecode, names and constants (nested code the same way);
    not its file or line numbers, which differ once a function is moved into a package module."""
    if depth > _MAX_DEPTH:
        return "..."
    consts = tuple(_code_identity(c, depth + 1) if hasattr(c, "co_code") else repr(c) for c in code.co_consts)
    return (code.co_code, code.co_names, code.co_varnames, code.co_freevars, consts)


def _module_name(module: str) -> str:
    """A module as the comparison names it: Airflow's DagBag prefix dropped, a code package's
    generated module named after the DAG file it was taken from."""
    module = _DAGBAG_MODULE.sub("", module or "")
    return _MODULE_ALIASES.get(module, module)


def _operator_path(task: Any) -> str:
    # Resolved classes, not the path written in the YAML: legacy paths such as
    # airflow.operators.empty.EmptyOperator are the standard-provider class on Airflow 3.
    cls = getattr(task, "operator_class", None) if _is_mapped(task) else type(task)
    return _class_path(cls) if isinstance(cls, type) else str(cls)


def _is_mapped(task: Any) -> bool:
    return hasattr(task, "expand_input") and hasattr(task, "partial_kwargs")


def _expanded(task: Any) -> dict[str, Any]:
    if not _is_mapped(task):
        return {}
    value = getattr(task.expand_input, "value", None)
    # expand() gives a mapping of argument to values; expand_kwargs() one list or XComArg.
    return dict(value) if isinstance(value, Mapping) else {"kwargs": value}


def _argument_names(task: Any) -> set[str]:
    """The arguments the DAG file passed to the operator, plus its templated fields.

    The task SDK's BaseOperatorMeta keeps every keyword an operator's __init__ received (after
    default_args were applied) in `_BaseOperator__init_kwargs`, for mapping and serialisation;
    mapped operators keep theirs in `partial_kwargs`.
    """
    if _is_mapped(task):
        names = set(task.partial_kwargs)
    else:
        names = set(getattr(task, "_BaseOperator__init_kwargs", None) or ())
    return names | set(task.template_fields)


def _argument(task: Any, name: str) -> Any:
    """An argument as the operator object holds it, normalised for comparison."""
    if _is_mapped(task):
        if name in task.partial_kwargs:
            return _norm(task.partial_kwargs[name])
        if name in _EFFECTIVE:
            return _norm(getattr(task, name, _NOT_SET))
        return _norm(_default(task.operator_class, name))
    # The attribute, not the keyword: it is what runs (retry_delay given in seconds becomes a
    # timedelta, start_date is clipped to the DAG's, XComArgs stay as passed).
    if hasattr(task, name):
        return _norm(getattr(task, name))
    init_kwargs = getattr(task, "_BaseOperator__init_kwargs", None) or {}
    if name in init_kwargs:
        return _norm(init_kwargs[name])
    return _norm(_default(type(task), name))


class _NotSet:
    def __repr__(self) -> str:
        return "<not set>"


_NOT_SET: Any = _NotSet()


class _Inherited:
    def __repr__(self) -> str:
        return "<the DAG's>"


_INHERITED: Any = _Inherited()


def _default(cls: Any, name: str) -> Any:
    """The default of `name` in the first __init__ over `cls`'s MRO that declares it."""
    if not isinstance(cls, type):
        return _NOT_SET
    return _defaults(cls).get(name, _NOT_SET)


@functools.lru_cache(maxsize=None)
def _defaults(cls: type) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            # Airflow wraps each __init__ with functools.wraps; signature() follows __wrapped__.
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
            continue
        for parameter in parameters:
            if parameter.default is not inspect.Parameter.empty:
                found[parameter.name] = parameter.default
    return found


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True, slots=True)
class _Shown:
    """A normalised value that is not a plain YAML scalar: equal by kind and key, shown as text."""

    kind: str
    key: Any
    text: str = field(compare=False)

    def __repr__(self) -> str:
        return self.text


# The converter writes an XCom reference as exactly `{{ ti.xcom_pull(task_ids='x') }}`; hand
# written YAML (and AWS's samples) also use double quotes, `task_instance` and an explicit
# `key="return_value"`. All of these pull the same value.
_XCOM_PULL = re.compile(
    r"\{\{\s*(?:ti|task_instance)\.xcom_pull\(\s*task_ids\s*=\s*(['\"])([^'\"]+)\1\s*"
    r"(?:,\s*key\s*=\s*(['\"])([^'\"]+)\3\s*)?\)\s*\}\}"
)


def _xcom_template(task_id: str, key: str | None) -> str:
    if key in (None, "return_value"):
        return f"{{{{ ti.xcom_pull(task_ids='{task_id}') }}}}"
    return f"{{{{ ti.xcom_pull(task_ids='{task_id}', key='{key}') }}}}"


_DAGBAG_MODULE = re.compile(r"^unusual_prefix_[0-9a-f]+_")


#: Nesting depth at which `_norm` stops descending; object graphs can be cyclic.
_MAX_DEPTH = 20


def _norm(value: Any, depth: int = 0) -> Any:
    """A comparable, readable form of an operator or DAG value.

    XComArgs become the Jinja string the converter writes, durations their total seconds,
    instants aware UTC datetimes, enums equal to their string value that value (other enums stay members), tuples lists, sets sorted lists.
    """
    if depth > _MAX_DEPTH:
        return _Shown("object", "...", "...")
    deeper = depth + 1
    if value is None or value is _NOT_SET or isinstance(value, (bool, int, float, bytes)):
        return value
    if isinstance(value, enum.Enum):
        if isinstance(value.value, str) and value == value.value:  # compares equal to its value everywhere
            return _norm(value.value, deeper)
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        return _Shown("enum", (name, value.name), f"{type(value).__qualname__}.{value.name}")
    if isinstance(value, str):
        return _XCOM_PULL.sub(lambda m: _xcom_template(m.group(2), m.group(4)), value)
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
        return _Shown("timedelta", seconds, f"timedelta(seconds={seconds:g})")
    if isinstance(value, _dt.datetime):
        # Naive datetimes are in Airflow's default_timezone, which is UTC unless configured.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
        instant = _dt.datetime.fromtimestamp(aware.timestamp(), tz=_dt.timezone.utc)
        return _Shown("datetime", instant, instant.isoformat())
    if isinstance(value, _dt.date):
        return _Shown("date", value, value.isoformat())
    xcom = _xcom_arg(value)
    if xcom is not None:
        return xcom
    if hasattr(value, "dump") and type(value).__name__ == "ParamsDict":
        return _norm(value.dump(), deeper)
    if type(value).__name__ == "Param" and hasattr(value, "value"):
        return _norm(value.value, deeper)
    if isinstance(value, Mapping):
        return {str(k): _norm(v, deeper) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_norm(v, deeper) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_norm(v, deeper) for v in value), key=repr)
    if hasattr(value, "task_id") and hasattr(value, "upstream_task_ids"):
        return _Shown("task", value.task_id, f"<task {value.task_id!r}>")
    if isinstance(value, functools.partial):
        # dag-factory builds callbacks given as {callback: f, kw: v} as functools.partial.
        parts = (value.func, list(value.args), value.keywords)
        text = f"partial{tuple(_norm(part, deeper) for part in parts)!r}"
        return _Shown("callable", text, text)
    if inspect.isclass(value) or (callable(value) and hasattr(value, "__qualname__")):
        module = _module_name(getattr(value, "__module__", "") or "")
        path = f"{module}.{value.__qualname__}"
        code = getattr(value, "__code__", None)
        # Same module, name and code: a callable moved into a code package must still be the same function.
        key = (path, _code_identity(code)) if code is not None and hasattr(code, "co_code") else path
        return _Shown("callable", key, path)
    if hasattr(value, "__dict__"):
        state = repr(_norm(vars(value), deeper))
        text = f"{_class_path(type(value))}({state})"
        return _Shown("object", text, text)
    return _Shown("object", repr(value), repr(value))  # pragma: no cover - slotted objects


def _xcom_arg(value: Any) -> Any:
    try:
        from airflow.sdk.definitions.xcom_arg import PlainXComArg, XComArg
    except ImportError:  # pragma: no cover - _require_airflow ran first
        return None
    if isinstance(value, PlainXComArg):
        # `task.output` in Python; the converter writes the equivalent Jinja pull.
        return _xcom_template(value.operator.task_id, value.key)
    if isinstance(value, XComArg):
        return _Shown("xcomarg", repr(value), repr(value))
    return None


def _class_path(cls: type) -> str:
    return f"{_module_name(cls.__module__)}.{cls.__qualname__}"


def _show(value: Any) -> str:
    return repr(value)


def verify_result(py_file: Path, result: "FileResult", *, task_groups: bool = False,
                  plugins: bytes | None = None) -> "FileResult":
    """`convert --verify`: prove each converted DAG of one file before its YAML is written.

    A difference refuses that DAG (DC902): the YAML is not written. A source or YAML that cannot
    be loaded leaves the conversion as it is, with a warning (DC903). Raises VerifyUnavailable.
    """
    import tempfile

    from dag_converter import codes
    from dag_converter.model import DagResult, Diagnostic

    converted = [d for d in result.dags if d.yaml_text is not None and d.output_name is not None]
    if not converted:
        return result
    with tempfile.TemporaryDirectory(prefix="dag-converter-verify-") as folder:
        paths = []
        packages: dict[str, bytes] = {}
        for dag in converted:
            path = Path(folder) / str(dag.output_name)
            path.write_text(str(dag.yaml_text), encoding="utf-8")
            paths.append(path)
            if dag.code_package is not None and not dag.code_package.restored:
                packages[path.name] = dag.code_package.data
        try:
            differences = verify(py_file, paths, task_groups=task_groups, code_packages=packages, plugins=plugins)
            skipped: str | None = None
        except (SourceLoadError, YamlLoadError) as exc:
            differences, skipped = [], str(exc)
    by_dag: dict[str, list[Difference]] = {}
    for difference in differences:
        by_dag.setdefault(difference.dag_id, []).append(difference)
    new_dags: list[DagResult] = []
    for dag in result.dags:
        if dag.yaml_text is None:
            new_dags.append(dag)
            continue
        found: list[Diagnostic] = []
        if skipped is not None:
            found.append(codes.make(codes.VERIFY_SKIPPED, dag.workflow.span, detail=skipped))
        for difference in by_dag.get(dag.dag_id, []):
            found.append(codes.make(codes.VERIFY_DIFFERENCE, dag.workflow.span, detail=difference.message))
        if not found:
            new_dags.append(dag)
            continue
        refused = any(d.code == codes.VERIFY_DIFFERENCE.code for d in found)
        new_dags.append(dag.refuse(*found) if refused else dag.with_diagnostics(*found))
    return result.with_dags(new_dags)
