"""Benchmark dag-converter against the libcst parse floor and the AWS converter, on one machine.

    python benchmarks/run.py [--files N] [--runs K] [--reference-venv DIR] [--create-reference-venv]

1. Builds a corpus in benchmarks/corpus/all/: the Amazon provider 9.30.0 system-test example DAGs
   (downloaded once with pip into ~/.cache/dag-converter-corpus, like
   ../shared/corpus/fetch-provider-examples.sh) plus fixtures/dags/*.py and tests/verify_cases/*.py,
   copied round-robin up to N files with every DAG id renamed so that no two copies collide.
2. Times, each as the median of K runs:
   - the parse floor: `libcst.parse_module` over every file, in this process (texts read first);
   - the same floor in a cold process (interpreter start + `import libcst` + parse), for scale;
   - `dag-converter convert` end to end in a cold process (subprocess), with `--jobs 1` when the
     option exists (detected from `convert --help`) and with the default jobs;
   - `dag-converter --version` cold start;
   - small runs, the pre-commit hook's case (benchmarks/corpus/small-1 and small-20, the first 1
     and 20 corpus files): `convert` cold with the default jobs and with `--jobs 1`, and the
     one-file run against its floor, a cold `python -c "import libcst; libcst.parse_module(...)"`
     on the same file;
   - with --crossover only: `--jobs <CPUs>` (workers always started) against `--jobs 1` on
     10..160 files, which is how batch/runner.py's PARALLEL_MIN_FILES was chosen;
   - the AWS tool (python-to-yaml-dag-converter-mwaa-serverless 0.1.4, folder mode,
     `--no-validate`) from the virtualenv given by --reference-venv. It refuses many files (it
     imports each DAG with Airflow), so it is compared with ours on the files both convert: one
     discovery run of each tool over the distinct seed files decides which seeds both convert, and
     their copies form benchmarks/corpus/common/.
3. Peak memory and CPU time come from wait4(2): the child and the children it waited for. Workers
   that `--jobs` starts through a forkserver are not the main process's children, so for runs
   with workers both cover the main process only.
4. Prints a table and writes it as JSON to benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
PROVIDER_VERSION = "9.30.0"
REFERENCE_PACKAGE = "python-to-yaml-dag-converter-mwaa-serverless==0.1.4"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dag-converter-corpus"

# DAG ids written as literals: `dag_id="x"`, `DAG_ID = "x"`, `DAG("x"`.
_DAG_ID = re.compile(r"""(\bdag_id\s*=\s*|\bDAG_ID\s*=\s*|\bDAG\(\s*)(["'])([^"'\\\n]+)\2""")


# ---------------------------------------------------------------------------------------------
# corpus


def provider_examples(version: str = PROVIDER_VERSION) -> Path:
    """The provider's system-test example DAG folder, downloaded once (the sdist, never imported)."""
    dest = CACHE / f"amazon-{version}"
    folder = dest / "tests" / "system" / "amazon" / "aws"
    if folder.is_dir():
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        f"apache-airflow-providers-amazon=={version}", "-d", tmp], check=True)
        with tarfile.open(Path(tmp) / f"apache_airflow_providers_amazon-{version}.tar.gz") as archive:
            archive.extractall(tmp, filter="data")
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(tmp) / f"apache_airflow_providers_amazon-{version}" / "tests", dest / "tests",
                        dirs_exist_ok=True)
    return folder


def seed_files() -> list[Path]:
    seeds = sorted(provider_examples().glob("example_*.py"))
    for folder in (ROOT / "fixtures" / "dags", ROOT / "tests" / "verify_cases"):
        if folder.is_dir():
            seeds.extend(sorted(folder.glob("*.py")))
    return seeds


def rename_dag_ids(text: str, suffix: str) -> str:
    return _DAG_ID.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{suffix}{m.group(2)}", text)


def copy_name(seed_index: int, copy: int, seed: Path) -> str:
    return f"s{seed_index:03d}_c{copy:03d}_{seed.stem}.py"


def build_corpus(seeds: list[Path], count: int, folder: Path, keep: set[int] | None = None) -> list[Path]:
    """`count` files copied round-robin from the seeds (only the seeds in `keep`, if given)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    chosen = [(i, s) for i, s in enumerate(seeds) if keep is None or i in keep]
    texts = {i: s.read_text(encoding="utf-8") for i, s in chosen}
    files = []
    for n in range(count):
        index, seed = chosen[n % len(chosen)]
        copy = n // len(chosen)
        target = folder / copy_name(index, copy, seed)
        target.write_text(rename_dag_ids(texts[index], f"_s{index}_c{copy}"), encoding="utf-8")
        files.append(target)
    return files


# ---------------------------------------------------------------------------------------------
# measuring


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  #: user + system, the process and its waited-for children
    max_rss_mb: float
    returncode: int


def run_cold(argv: list[str], env: dict[str, str], cwd: Path | None = None, log: Path | None = None) -> Run:
    """Run a process to the end: wall time, CPU time and peak RSS (from wait4, children included)."""
    out = open(log, "wb") if log else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode)


@dataclass
class Row:
    name: str
    files: int
    runs: list[float] = field(default_factory=list)  #: wall seconds per run
    cpu_runs: list[float] = field(default_factory=list)  #: CPU seconds per run
    max_rss_mb: float | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_runs)

    @property
    def ms_per_file(self) -> float:
        return 1000 * self.median / self.files

    @property
    def cpu_ms_per_file(self) -> float:
        return 1000 * self.cpu_median / self.files

    @property
    def files_per_s(self) -> float:
        return self.files / self.median

    def add(self, run: Run) -> None:
        self.runs.append(run.seconds)
        self.cpu_runs.append(run.cpu_seconds)
        self.max_rss_mb = max(self.max_rss_mb or 0.0, run.max_rss_mb)

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data.update(median_s=round(self.median, 4), ms_per_file=round(self.ms_per_file, 3),
                    cpu_ms_per_file=round(self.cpu_ms_per_file, 3), files_per_s=round(self.files_per_s, 1))
        return data


def our_env() -> dict[str, str]:
    # As installed: bytecode is written and reused (`pip install .` compiles it; an environment
    # with PYTHONDONTWRITEBYTECODE=1 would compile every module on every cold start instead).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["NO_COLOR"] = "1"
    return env


def reference_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    env.setdefault("AIRFLOW_HOME", str(BENCH / "results" / ".airflow-home"))
    return env


def ours_argv(folder: Path, output: Path, jobs: int | None) -> list[str]:
    argv = [sys.executable, "-m", "dag_converter", "convert", str(folder), "--output", str(output), "--quiet",
            "--no-color"]
    return argv + (["--jobs", str(jobs)] if jobs is not None else [])


def has_jobs_option() -> bool:
    result = subprocess.run([sys.executable, "-m", "dag_converter", "convert", "--help"], env=our_env(),
                            capture_output=True, text=True, check=True)
    return "--jobs" in result.stdout


def ours_once(folder: Path, jobs: int | None) -> Run:
    with tempfile.TemporaryDirectory() as out:
        result = run_cold(ours_argv(folder, Path(out), jobs), our_env())
    if result.returncode not in (0, 1):
        raise SystemExit(f"dag-converter convert {folder} exited {result.returncode}")
    return result


def floor_in_process(texts: list[str]) -> Run:
    import libcst

    start, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        libcst.parse_module(text)
    return Run(time.perf_counter() - start, time.process_time() - cpu, 0.0, 0)


_FLOOR_SCRIPT = """
import sys
texts = [open(p, encoding="utf-8").read() for p in open(sys.argv[1]).read().split()]
import libcst
for t in texts:
    libcst.parse_module(t)
"""


def floor_cold(listing: Path) -> Run:
    return run_cold([sys.executable, "-c", _FLOOR_SCRIPT, str(listing)], our_env())


def floor_one_cold(file: Path) -> Run:
    return run_cold([sys.executable, "-c", "import sys, libcst; libcst.parse_module(open(sys.argv[1]).read())",
                     str(file)], our_env())


def small_runs(seeds: list[Path], runs: int) -> tuple[list[Row], dict[str, float]]:
    """The hook's case: 1 and 20 files, cold, default jobs against --jobs 1, and one file
    against its cold parse floor."""
    rows: list[Row] = []
    measurements: list[tuple[Row, Callable[[], Run]]] = []
    pairs = {}
    for count in (1, 20):
        folder = BENCH / "corpus" / f"small-{count}"
        files = build_corpus(seeds, count, folder)
        default = Row(f"small: convert {count} file(s), default jobs (cold)", count)
        single = Row(f"small: convert {count} file(s), --jobs 1 (cold)", count)
        measurements += [(default, lambda f=folder: ours_once(f, None)), (single, lambda f=folder: ours_once(f, 1))]
        pairs[count] = (default, single)
        if count == 1:
            floor = Row("small: 1 file, cold import libcst + parse", 1, note="the one-file floor")
            measurements.append((floor, lambda f=files[0]: floor_one_cold(f)))
            pairs[0] = (floor, floor)
    measure_rounds(measurements, runs)
    rows = [row for row, _ in measurements]
    ratios = {
        "small1_default_vs_jobs1": round(pairs[1][0].median / pairs[1][1].median, 2),
        "small20_default_vs_jobs1": round(pairs[20][0].median / pairs[20][1].median, 2),
        "small1_default_vs_floor": round(pairs[1][0].median / pairs[0][0].median, 2),
    }
    return rows, ratios


def crossover(seeds: list[Path], runs: int) -> list[Row]:
    """Workers (--jobs = CPUs, always started) against --jobs 1 by batch size."""
    rows: list[Row] = []
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    for count in (10, 20, 40, 80, 160):
        folder = BENCH / "corpus" / f"crossover-{count}"
        build_corpus(seeds, count, folder)
        workers = Row(f"crossover: {count} files, --jobs {cpus} (cold)", count)
        single = Row(f"crossover: {count} files, --jobs 1 (cold)", count)
        measure_rounds([(workers, lambda f=folder: ours_once(f, cpus)), (single, lambda f=folder: ours_once(f, 1))],
                       runs)
        rows += [workers, single]
    return rows


def version_once() -> Run:
    return run_cold([sys.executable, "-m", "dag_converter", "--version"], our_env())


def measure_rounds(measurements: list[tuple[Row, Callable[[], Run]]], runs: int) -> None:
    """Run every measurement once per round, `runs` rounds: a load change on the machine then
    touches all of them alike, which keeps their ratios honest."""
    for _ in range(runs):
        for row, once in measurements:
            row.add(once())


# ---------------------------------------------------------------------------------------------
# the reference tool


def create_reference_venv(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", REFERENCE_PACKAGE], check=True)


def reference_argv(venv: Path, folder: Path, output: Path) -> list[str]:
    return [str(venv / "bin" / "dag-converter"), "convert", str(folder), "--output", str(output), "--no-validate"]


def reference_converted(log_text: str) -> set[str]:
    """Input file names the reference wrote at least one YAML for, from its log (it prints
    `Filling up the DagBag from <path>` before each file and `YAML written to <path>` per DAG)."""
    converted, current = set(), None
    for line in log_text.splitlines():
        found = re.search(r"Filling up the DagBag from (\S+)", line)
        if found:
            current = Path(found.group(1)).name
        elif "YAML written to" in line and current:
            converted.add(current)
    return converted


def ours_converted(report: Path) -> set[str]:
    data = json.loads(report.read_text(encoding="utf-8"))
    return {Path(f["path"]).name for f in data["files"] if f["status"] in ("converted", "partial")}


def discover_common(seeds: list[Path], venv: Path) -> tuple[set[int], dict[str, int]]:
    """Seeds (by index) that both tools convert, from one run of each over one copy of every seed."""
    folder = BENCH / "corpus" / "seeds"
    files = build_corpus(seeds, len(seeds), folder)
    with tempfile.TemporaryDirectory() as tmp:
        run_cold(ours_argv(folder, Path(tmp) / "ours", None), our_env())
        ours = ours_converted(Path(tmp) / "ours" / "conversion-report.json")
        log = Path(tmp) / "reference.log"
        run_cold(reference_argv(venv, folder, Path(tmp) / "reference"), reference_env(venv), cwd=Path(tmp), log=log)
        theirs = reference_converted(log.read_text(encoding="utf-8", errors="replace"))
    both = {i for i, f in enumerate(files) if f.name in ours and f.name in theirs}
    return both, {"seeds": len(seeds), "ours": len(ours), "reference": len(theirs), "both": len(both)}


def reference_once(venv: Path, folder: Path) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        return run_cold(reference_argv(venv, folder, Path(tmp) / "out"), reference_env(venv), cwd=Path(tmp))


# ---------------------------------------------------------------------------------------------
# report


def render_table(rows: list[Row]) -> str:
    header = (f"{'measurement':50} {'files':>5} {'median s':>8} {'ms/file':>8} {'files/s':>8} {'CPU ms/file':>11} "
              f"{'peak MB':>7}  note")
    lines = [header, "-" * len(header)]
    for r in rows:
        rss = f"{r.max_rss_mb:7.0f}" if r.max_rss_mb else f"{'-':>7}"
        lines.append(f"{r.name:50} {r.files:5d} {r.median:8.3f} {r.ms_per_file:8.2f} {r.files_per_s:8.1f} "
                     f"{r.cpu_ms_per_file:11.2f} {rss}  {r.note}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000, help="corpus size (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement; the median is reported")
    parser.add_argument("--reference-venv", type=Path, default=None,
                        help="virtualenv holding " + REFERENCE_PACKAGE)
    parser.add_argument("--create-reference-venv", action="store_true",
                        help="create --reference-venv first (installs Airflow: minutes)")
    parser.add_argument("--reference-runs", type=int, default=3, help="runs of the (slow) reference tool")
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--crossover", action="store_true",
                        help="also time workers against --jobs 1 on 10..160 files (PARALLEL_MIN_FILES)")
    args = parser.parse_args()

    (BENCH / "results").mkdir(parents=True, exist_ok=True)
    seeds = seed_files()
    corpus = BENCH / "corpus" / "all"
    files = build_corpus(seeds, args.files, corpus)
    n = len(files)
    print(f"corpus: {n} files from {len(seeds)} seeds in {corpus.relative_to(ROOT)}", file=sys.stderr)
    texts = [f.read_text(encoding="utf-8") for f in files]
    floor_in_process(texts[:1])  # import libcst before timing
    listing = BENCH / "results" / ".floor-files.txt"
    listing.write_text("\n".join(map(str, files)))

    floor = Row("libcst.parse_module (in-process)", n, note="the parse floor")
    floor_cold_row = Row("libcst.parse_module (cold process)", n, note="interpreter + import libcst + parse")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "dag_converter")], env=our_env(), check=True)
    jobs = has_jobs_option()
    if jobs:
        single = Row("dag-converter convert --jobs 1 (cold)", n)
        default = Row("dag-converter convert, default jobs (cold)", n,
                      note="CPU, MB: main process only (workers are forkserver children)")
        ours = [(single, lambda: ours_once(corpus, 1)), (default, lambda: ours_once(corpus, None))]
    else:
        single = default = Row("dag-converter convert (cold, single process)", n,
                               note="no --jobs option on this branch")
        ours = [(single, lambda: ours_once(corpus, None))]
    version = Row("dag-converter --version (cold)", 1)
    measurements = [(floor, lambda: floor_in_process(texts)), (floor_cold_row, lambda: floor_cold(listing)),
                    *ours, (version, version_once)]
    measure_rounds(measurements, args.runs)
    rows = [row for row, _ in measurements]

    ratios: dict[str, float] = {
        "ours_single_vs_floor": round(single.ms_per_file / floor.ms_per_file, 2),
        "ours_single_vs_floor_cpu": round(single.cpu_ms_per_file / floor.cpu_ms_per_file, 2),
        "ours_single_vs_cold_floor": round(single.ms_per_file / floor_cold_row.ms_per_file, 2),
    }
    if jobs:
        small_rows, small_ratios = small_runs(seeds, args.runs)
        rows += small_rows
        ratios.update(small_ratios)
        if args.crossover:
            rows += crossover(seeds, args.runs)
    common: dict[str, object] = {}
    venv = args.reference_venv
    if venv is not None and args.create_reference_venv and not (venv / "bin" / "dag-converter").exists():
        create_reference_venv(venv)
    if venv is not None and (venv / "bin" / "dag-converter").exists():
        both, counts = discover_common(seeds, venv)
        common.update(counts)
        if both:
            count = sum(1 for i in range(args.files) if (i % len(seeds)) in both)
            folder = BENCH / "corpus" / "common"
            build_corpus(seeds, count, folder, keep=both)
            common["files"] = count
            note = f"{count} copies of the {len(both)} seeds both convert"
            ours_common = Row("dag-converter convert, default jobs (common files)", count,
                              note=note + "; CPU, MB: main process only")
            theirs = Row("AWS converter 0.1.4, folder, --no-validate", count, note=note)
            measure_rounds([(ours_common, lambda: ours_once(folder, None)),
                            (theirs, lambda: reference_once(venv, folder))], args.reference_runs)
            rows += [ours_common, theirs]
            ratios["reference_vs_ours_common"] = round(theirs.ms_per_file / ours_common.ms_per_file, 1)
    elif venv is not None:
        print(f"no reference tool in {venv}; pass --create-reference-venv to install it", file=sys.stderr)

    table = render_table(rows)
    print(table)
    if common:
        print(f"common files: of {common['seeds']} distinct seed files ours converts {common['ours']}, "
              f"the reference {common['reference']}, both {common['both']}")
    for key, value in ratios.items():
        print(f"{key}: {value}x")
    result = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average": os.getloadavg()},
        "corpus": {"files": n, "seeds": len(seeds), "provider_version": PROVIDER_VERSION},
        "runs": args.runs, "jobs_option": jobs, "rows": [r.as_json() for r in rows], "ratios": ratios,
        "common": common, "table": table,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"wrote {shown}", file=sys.stderr)


if __name__ == "__main__":
    main()
