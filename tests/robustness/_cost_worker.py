"""Runs one file through the pipeline under an address-space limit; prints its diagnostics as JSON.

    python -m tests.robustness._cost_worker FILE MEGABYTES
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from dag_converter.pipeline import convert_source
from tests.robustness._support import OPTIONS


def main() -> None:
    path, megabytes = Path(sys.argv[1]), int(sys.argv[2])
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result = convert_source(path.read_bytes(), path.name, path.name, OPTIONS)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "status": result.status,
        "peak_mb": peak_kb // 1024,
        "diagnostics": [{"code": d.code, "line": d.span.line, "message": d.message}
                        for d in result.all_diagnostics()],
    }))


if __name__ == "__main__":
    main()
