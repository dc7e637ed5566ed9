"""``python -m bench.publish``: writes ``docs/benchmarks.md`` from the runs in ``bench/published/``.

The page is the one place the benchmark figures are shown; it is generated, never edited by hand,
and ``tests/test_bench_published.py`` fails when it differs from what this script writes. A run
is published with ``bench/run ... --publish`` (or by copying its ``run-N.json`` from
``bench/results/`` into ``bench/published/``).
"""

import json
import re
import sys
from pathlib import Path

from bench.report import NAMES, WRITE_FIGURES, markdown_report, ratio

BENCH = Path(__file__).resolve().parent
PUBLISHED = BENCH / "published"
PAGE = BENCH.parent / "docs" / "benchmarks.md"

INTRODUCTION = """\
# Benchmarks

What django-authfold costs, each figure measured beside its floor in the same run: the login
against Django's own `ModelBackend` (exact username), each write against the same write by plain
Django (authfold's receivers off), the audit against one `GROUP BY LOWER(username)`. Contenders
take turns in shuffled order on the same inputs, so both sides of a ratio saw the same machine
load; absolute times depend on that load, which is given for each run. How the benchmark works
and how to run it: `bench/README.md`, in the source tree beside the published runs.

This page is written by `python -m bench.publish` from the runs kept in `bench/published/`;
do not edit it by hand.
"""


def published_runs(folder=PUBLISHED):
    """The published runs, newest first."""
    runs = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]
    return sorted(runs, key=lambda run: run["started"], reverse=True)


def page(folder=PUBLISHED):
    """The whole of ``docs/benchmarks.md``."""
    sections = [INTRODUCTION]
    for run in published_runs(folder):
        sections += [
            f"## {run['started'][:10]}: {users_of(run)} users, "
            + ", ".join(NAMES[database] for database in run["databases"]),
            "",
            summary_table(run),
            "",
            "### Details",
            "",
            markdown_report(run).replace("\n### ", "\n#### "),
        ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(sections)).rstrip() + "\n"


def users_of(run):
    counts = {results["users"] for results in run["databases"].values()}
    return " / ".join(f"{count:,}" for count in sorted(counts))


def summary_table(run):
    """One row per figure, one column per database: ours against the floor, the ratio, the target."""
    databases = run["databases"]
    rows = [
        "| Figure | " + " | ".join(NAMES[database] for database in databases) + " | target |",
        "|---|" + "---|" * len(databases) + "---|",
    ]
    for label, target, cell in summary_figures():
        cells = [cell(results["figures"]) for results in databases.values()]
        if any(cells):
            rows.append(
                f"| {label} | " + " | ".join(c or "not measured" for c in cells) + f" | {target} |"
            )
    return "\n".join(rows)


def summary_figures():
    """(label, target, cell(figures)) for each row of the summary table."""

    def login(figures):
        timings = figures.get("login", {}).get("timings")
        if not timings:
            return None
        return versus(timings["ours"]["median_ms"], timings["exact"]["median_ms"], "ms")

    def write(figure):
        def cell(figures):
            timings = figures.get("writes", {}).get(figure, {}).get("timings")
            if not timings:
                return None
            ours, plain = timings["ours"], timings["plain"]
            return (
                versus(ours["median_ms"], plain["median_ms"], "ms")
                + f"; {len(ours['statements'])} vs {len(plain['statements'])} statements"
            )

        return cell

    def audit(figures):
        found = figures.get("audit")
        if not found:
            return None
        return (
            versus(found["ours_s"], found["floor_s"], "s")
            + f"; peak {found['peak_rss_mb']:.0f} MB (Django alone {found['baseline_rss_mb']:.0f})"
        )

    def signup(figures):
        timings = figures.get("signup", {}).get("username", {}).get("timings")
        if not timings:
            return None
        return versus(timings["ours"]["median_ms"], timings["exact"]["median_ms"], "ms")

    rows = [
        (
            "Login, `authenticate()` with the failure throttle on / `ModelBackend` exact",
            "≤ 1.25x",
            login,
        ),
    ]
    targets = {"create_user": "≤ 1.5x, ≤ 4 statements", "create_user_in_transaction": "none",
               "profile_save": "no extra statement", "case_change": "≤ 2x"}  # fmt: skip
    for figure, (label, _most, _statements) in WRITE_FIGURES.items():
        rows.append((f"{label} / plain Django", targets[figure], write(figure)))
    rows += [
        (
            "`conflict_audit`, fully migrated / one `GROUP BY LOWER(username)`",
            "≤ 2x, < 150 MB",
            audit,
        ),
        ("Sign-up username check / exact", "", signup),
    ]
    return rows


def versus(ours, floor, unit):
    shown = f"{ours:.3f} vs {floor:.3f} {unit}" if unit == "ms" else f"{ours:.2f} vs {floor:.2f} s"
    return f"{shown}, **{ratio(ours, floor)}**"


def main(argv=None):
    PAGE.write_text(page())
    print(f"wrote {PAGE.relative_to(BENCH.parent)}", file=sys.stderr)


if __name__ == "__main__":
    main()
