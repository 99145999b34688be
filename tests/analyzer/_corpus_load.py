"""Load the provider's example DAGs with Airflow's DagBag and print what it built, as JSON.

Run in a subprocess by test_corpus_fidelity.py: `python _corpus_load.py CORPUS_AWS_FOLDER`.
For every task it records the line of the DAG file that created it and whether code outside the
DAG file made it (a helper of `system.amazon.aws.utils`, a shim): the analyzer never follows such
code, so those tasks are compared through the refusal diagnostics at that line instead.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(folder: Path) -> None:
    tests_root = folder.parents[2]  # .../tests: `system.amazon.aws.utils` imports from here
    sys.path[:0] = [str(HERE / "corpus_shims"), str(tests_root), str(folder)]
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    from airflow.models.dagbag import DagBag
    from airflow.sdk.definitions.dag import DAG

    outside = (str(tests_root), str(HERE / "corpus_shims"))  # helper code the DAG files call
    created: dict[int, tuple[int, bool]] = {}
    original = DAG.add_task

    def add_task(self, task):  # type: ignore[no-untyped-def]
        frames = inspect.stack(0)
        fileloc = getattr(self, "fileloc", "") or ""
        line, external = 0, False
        for frame in reversed(frames):  # outermost first
            filename = os.path.abspath(frame.filename)
            if filename == os.path.abspath(fileloc):
                line, external = frame.lineno, False
            elif line and filename.startswith(outside):
                external = True
        callable_ = getattr(task, "python_callable", None)
        code = getattr(callable_, "__code__", None)
        if code is not None and os.path.abspath(code.co_filename) != os.path.abspath(fileloc):
            external = True
        created[id(task)] = (line, external)
        return original(self, task)

    DAG.add_task = add_task  # type: ignore[method-assign]
    result: dict[str, object] = {"files": {}, "errors": {}}
    for path in sorted(folder.glob("example_*.py")):
        bag = DagBag(dag_folder=str(path), include_examples=False, safe_mode=False)
        if bag.import_errors:
            result["errors"][path.name] = next(iter(bag.import_errors.values())).strip().splitlines()[-1]  # type: ignore[index]
            continue
        dags = {}
        for dag_id, dag in bag.dags.items():
            if os.path.abspath(dag.fileloc) != str(path):
                # A DAG of another example file this one imports (example_sagemaker_pipeline imports
                # example_sagemaker): that file's own run reports it.
                continue
            dags[dag_id] = {
                task.task_id: {
                    "upstream": sorted(task.upstream_task_ids),
                    "operator": f"{type(task).__module__}.{type(task).__name__}",
                    "line": created.get(id(task), (0, False))[0],
                    "external": created.get(id(task), (0, False))[1],
                }
                for task in dag.tasks
            }
        result["files"][path.name] = dags  # type: ignore[index]
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
