"""``python -m bench`` (or ``bench/run``): every benchmark figure on each database, one command.

Each database runs in its own process (``bench.measure``) against its own ``authfold_bench*``
database, created empty and dropped afterwards unless ``--keep``. The results land in
``bench/results/`` (git-ignored): one JSON file per database and ``report.md``, also printed.
"""

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from bench.databases import DATABASES, RESULTS, database_url, drop_database, recreate_database
from bench.measure import FIGURES

REPO = Path(__file__).resolve().parent.parent


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="bench/run", description="Benchmarks: ours against the floor (and the naive retrofit)."
    )
    parser.add_argument("--users", type=int, default=1_000_000, help="users per database")
    parser.add_argument(
        "--databases", nargs="+", choices=DATABASES, default=["sqlite", "postgres"], metavar="DB"
    )
    parser.add_argument(
        "--twin-groups",
        type=int,
        help="case-variant twin pairs among the users (default: 1%% of --users, 10,000 at 1M)",
    )
    parser.add_argument("--repeat", type=int, default=1000, help="repetitions per indexed figure")
    parser.add_argument(
        "--scanning-repeat",
        type=int,
        default=30,
        help="repetitions for contenders that read the whole table (the naive ones)",
    )
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--figures", nargs="+", choices=FIGURES, default=FIGURES, metavar="FIGURE",
        help=f"measure only these ({', '.join(FIGURES)}); all by default",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument(
        "--publish",
        action="store_true",
        help="also keep the run in bench/published/ and write docs/benchmarks.md from it",
    )
    arguments = parser.parse_args(argv)
    if arguments.twin_groups is None:
        arguments.twin_groups = arguments.users // 100
    return arguments


def machine():
    """The machine and the versions, for the report."""
    with open("/proc/meminfo") as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    with open("/proc/cpuinfo") as cpuinfo:
        model = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
            platform.processor(),
        )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(total_kb / 1024 / 1024, 1),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "packages": {
            name: version(name)
            for name in ("Django", "djangorestframework", "psycopg", "mysqlclient")
        },
    }


def real_hasher_ms(repeat=5):
    """Median milliseconds of one password check with Django's default (real) hasher."""
    import statistics

    import django
    from django.conf import settings
    from django.utils.module_loading import import_string

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    hasher = import_string(settings.BENCH_REAL_PASSWORD_HASHER)()
    encoded = hasher.encode("a sturdy passphrase 8", hasher.salt())
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        hasher.verify("a sturdy passphrase 8", encoded)
        times.append(time.perf_counter() - started)
    return {"hasher": hasher.algorithm, "iterations": hasher.iterations,
            "median_ms": statistics.median(times) * 1000}  # fmt: skip


def run_database(database, arguments):
    """Create the database, measure in a child process, return its results (dropping it after)."""
    out = RESULTS / f"{database}-{arguments.users}.json"
    recreate_database(database)
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(database),
    }
    command = [
        sys.executable, "-m", "bench.measure", "--database", database,
        "--users", str(arguments.users), "--twin-groups", str(arguments.twin_groups),
        "--repeat", str(arguments.repeat), "--scanning-repeat", str(arguments.scanning_repeat),
        "--seed", str(arguments.seed), "--out", str(out), "--figures", *arguments.figures,
    ]  # fmt: skip
    try:
        started = time.perf_counter()
        subprocess.run(command, env=environment, cwd=REPO, check=True)
        results = json.loads(out.read_text())
        results["wall_seconds"] = time.perf_counter() - started
        return results
    finally:
        if not arguments.keep:
            drop_database(database)


def main(argv=None):
    from bench.report import markdown_report

    argv = sys.argv[1:] if argv is None else argv
    arguments = parse_arguments(argv)
    RESULTS.mkdir(exist_ok=True)
    run = {
        "command": shlex.join(["bench/run", *argv]),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "real_hasher": real_hasher_ms(),
        "databases": {},
    }
    for database in arguments.databases:
        run["databases"][database] = run_database(database, arguments)
    run["load_average_at_end"] = os.getloadavg()
    (RESULTS / f"run-{arguments.users}.json").write_text(json.dumps(run, indent=2))
    report = markdown_report(run)
    (RESULTS / f"report-{arguments.users}.md").write_text(report)
    print(report)
    if arguments.publish:
        from bench import publish

        name = f"{run['started'][:16].replace(':', '')}-{'-'.join(arguments.databases)}.json"
        publish.PUBLISHED.mkdir(exist_ok=True)
        (publish.PUBLISHED / name).write_text(json.dumps(run, indent=2) + "\n")
        publish.main()


if __name__ == "__main__":
    main()
