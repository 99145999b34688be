"""Fuzz worker: converts sources sent on stdin, one at a time, and answers one JSON line each.

Runs in its own process so the harness sees a crash (a segfault in native code) or a hang (no
answer within the time limit) as a failure of the input that caused it, not of the test run.
Protocol: the harness writes an 8-byte big-endian length and the source bytes; the worker writes
`{"status": ..., "codes": [...], "yaml_ok": bool, "error": str | null}` and a newline.
"""

from __future__ import annotations

import json
import sys
import traceback

import yaml

from dag_converter.pipeline import convert_source
from tests.robustness._support import OPTIONS


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout
    while True:
        header = stdin.read(8)
        if len(header) < 8:
            return
        data = stdin.read(int.from_bytes(header, "big"))
        answer: dict[str, object] = {"error": None}
        try:
            result = convert_source(data, "fuzz.py", "fuzz.py", OPTIONS)
            answer["status"] = result.status
            answer["codes"] = sorted({d.code for d in result.all_diagnostics()})
            answer["dags"] = len(result.dags)
            for dag in result.dags:
                if dag.yaml_text is not None:
                    yaml.load(dag.yaml_text, Loader=yaml.FullLoader)
                    dag.yaml_text.encode("utf-8")
        except BaseException:  # the harness reports it with the input
            answer["error"] = traceback.format_exc()
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()


if __name__ == "__main__":
    main()
