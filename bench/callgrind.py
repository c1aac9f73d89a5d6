"""CPU instructions counted by valgrind's callgrind: the same from run to run, whatever else the machine does.

A benchmark runs itself again as a child under callgrind with collection off (`collected`), and the child
switches collection on only around the work it measures (`collecting`). Two children doing N and M units
of work give one unit's count as the difference over M - N, which leaves out start-up and warming.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

MISSING = "valgrind is not installed (Debian/Ubuntu: sudo apt-get install valgrind)"


def available() -> bool:
    return shutil.which("valgrind") is not None and shutil.which("callgrind_control") is not None


def collected(module: str, *arguments: str) -> int:
    """Instructions `python -m module arguments…` collected under callgrind (only while it was collecting)."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
         sys.executable, "-m", module, *arguments],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(re.findall(r"Collected : (\d+)", run.stderr)[-1])


def per_unit(module: str, arguments: list[str], units: tuple[int, int]) -> float:
    """One unit's instructions: children doing `units[0]` and `units[1]` units (the count appended last)."""
    few, many = (collected(module, *arguments, str(n)) for n in units)
    return (many - few) / (units[1] - units[0])


def collecting(on: bool) -> None:
    """Callgrind's collection switched on or off for this process (a child run by `collected`)."""
    subprocess.run(["callgrind_control", f"--instr={'on' if on else 'off'}", str(os.getpid())],
                   capture_output=True, check=True)  # fmt: skip


def count_per_unit(module: str, arguments: list[str], units: tuple[int, int]) -> float:
    """`per_unit`, or a clear exit when valgrind is missing (the benchmarks' `--instructions`)."""
    if not available():
        raise SystemExit(MISSING)
    return per_unit(module, arguments, units)
