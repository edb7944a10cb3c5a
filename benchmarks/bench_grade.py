"""Seconds per submission of the class grader (tests/lab/grade.py), with -j 1 and with -j 2, side by side.

The class is this project's fixtures: this project's own modules, every right solution in
tests/lab_choices and every wrong one in tests/lab_mistakes, one submission each (several hold only
some of the six modules: their other tasks are `absent` and cost nothing). Each run grades the whole
class into a fresh folder; within a round the two settings take turns, so that a slow spell of a shared
machine hits both alike. Both runs must give the same table, which is checked; the first round's
grades.md is kept in --keep if given.

    python benchmarks/bench_grade.py [--rounds 1] [--keep FOLDER]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
MODULES = ("data", "fcann2", "pt_linreg", "pt_logreg", "pt_deep", "ksvm_wrap")


def make_class(folder):
    """One folder per fixture (a link to it), and a copy of this project's six modules."""
    folder.mkdir()
    for kind in ("lab_choices", "lab_mistakes"):
        for fixture in sorted((PROJECT / "tests" / kind).iterdir()):
            if fixture.is_dir():
                (folder / f"{kind.removeprefix('lab_')}-{fixture.name}").symlink_to(fixture)
    (folder / "this-project").mkdir()
    for module in MODULES:
        shutil.copy(PROJECT / f"{module}.py", folder / "this-project")
    return sorted(p.name for p in folder.iterdir())


def grade_seconds(submissions, out, jobs):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(PROJECT / "tests" / "lab" / "grade.py"), str(submissions), "--out",
                           str(out), "-j", str(jobs)], capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"grade.py -j {jobs} failed:\n{done.stderr}")
    return seconds, (out / "grades.csv").read_text()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="rounds of both settings (default: 1)")
    parser.add_argument("--keep", type=Path, help="a folder to copy the first round's grades.md into")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds: expected a positive number, got {args.rounds}")
    print(f"load average before the runs: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    times = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as scratch:
        names = make_class(Path(scratch) / "class")
        tables = set()
        for round_ in range(args.rounds):
            for jobs in times:
                out = Path(scratch) / f"out-{round_}-{jobs}"
                seconds, table = grade_seconds(Path(scratch) / "class", out, jobs)
                times[jobs].append(seconds)
                tables.add(table)
                if args.keep and round_ == 0 and jobs == 1:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    shutil.copy(out / "grades.md", args.keep / "grades.md")
        if len(tables) != 1:
            sys.exit("the runs gave different tables")
    print(f"\n{len(names)} submissions ({', '.join(names)})\n")
    print("| -j | seconds (median) | seconds per submission |")
    print("|---|---|---|")
    for jobs, values in times.items():
        median = statistics.median(values)
        print(f"| {jobs} | {median:.1f} | {median / len(names):.2f} |")
    print(f"\nload average after the runs: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
