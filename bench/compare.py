"""`make bench`: every figure of issue 22 for this tree beside the previous implementation, in one run.

The previous implementation is commit 907ad7d (before the batched consumer and the requests' gate),
checked out as a git worktree at /tmp/bench-old (made when missing). Each figure's driver is this
tree's script; for the previous implementation it runs with that worktree's packages first on
PYTHONPATH (shared, the services, the gateway, deploy), so the same measurement drives either code.
The two run one after the other, figure by figure, so a busy machine disturbs both alike.

    uv run python -m bench.compare [--quick] [--rounds 2] [--previous 907ad7d]

`--quick` skips the whole-platform figures (gateway, approvals, claims, district mix): about a
minute instead of several. Each driver runs `--rounds` times (2) per side, previous and current in
turn, and each side keeps its better figure. Nothing is asserted; the targets are printed beside the
figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import callgrind

REPO = Path(__file__).resolve().parent.parent
PREVIOUS = "907ad7d"
PACKAGES = ("shared", "deploy", "gateway", "svc-claims", "svc-facility", "svc-registration",
            "svc-settlement", "svc-transfer")  # fmt: skip

# (figure, what it is, target, higher is better)
FIGURES = [
    ("pipeline_events_per_s", "events/s outbox → relay → broker → consumer", "≥ 1,500", True),
    ("pipeline_cpu_us_per_event", "µs CPU per event (relay + consumer)", "", False),
    ("approved_to_eligible_p99_ms", "ms p99 registration.approved → claims.eligible", "≤ 100", False),
    ("approvals_per_s", "approvals/s answered while it was measured", "200", True),
    ("read_in_process_per_s", "req/s eligibility/me in process (16 at once)", "", True),
    ("read_cpu_us_per_request", "µs CPU per read in process", "", False),
    ("read_instructions_per_request", "instructions per read in process (callgrind)", "", False),
    ("read_gateway_16_per_s", "req/s read through the gateway, 16 connections", "≥ 1,500", True),
    ("read_direct_16_per_s", "req/s same read straight to svc-claims", "", True),
    ("read_gateway_share_pct", "% gateway of direct", "≥ 50", True),
    ("read_errors", "errors in the reads (all rounds)", "0", False),
    ("mix_per_s", "req/s district mix (bench.load, 32 clients)", "≥ 3× previous", True),
    ("mix_errors", "errors in the district mix (all rounds)", "0", False),
    ("mix_p99_ms", "ms p99 district mix (worst kind)", "≤ 300", False),
    ("mix_events_lost", "events lost in the district mix (all rounds)", "0", False),
    ("claims_to_payment_per_s", "claims/s carried to payment (8 clients)", "≥ 100", True),
    ("claims_failed", "claims not carried to payment (all rounds)", "0", False),
]


def previous_tree(commit: str) -> Path:
    tree = Path("/tmp/bench-old")
    if not (tree / "shared").is_dir():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), commit], check=True)
    return tree


def run(module: str, arguments: list[str], tree: Path | None) -> dict[str, float]:
    env = dict(os.environ)
    if tree is not None:  # the previous implementation's packages before the installed (current) ones
        paths = [str(tree / p / "src") for p in PACKAGES]
        env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = subprocess.run([sys.executable, "-m", module, *arguments, "--json"], cwd=REPO, env=env,
                          capture_output=True, text=True)  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(f"   {module} ({'previous' if tree else 'current'}) failed: {done.stderr.strip()[-500:]}")
        return {}
    figures: dict[str, float] = json.loads(lines[-1])
    for key, value in figures.items():
        if isinstance(value, dict) and value:  # details, e.g. the district mix's failures by kind and status
            print(f"   {'previous' if tree else 'current'} {key}: {value}")
    return {k: v for k, v in figures.items() if isinstance(v, int | float)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the in-process figures")
    parser.add_argument("--previous", default=PREVIOUS)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each driver per side, interleaved")
    args = parser.parse_args()
    old = previous_tree(args.previous)
    print(f"bench.compare · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f} · "
          f"{time.strftime('%Y-%m-%d %H:%M')} · previous = {args.previous} at {old}")  # fmt: skip
    drivers = [("bench.pipeline", ["--events", "3000", "--rounds", "1"], args.rounds),
               ("bench.read_path", ["--requests", "1000", "--rounds", "2"], args.rounds)]  # fmt: skip
    if callgrind.available():  # a count, the same every run: one round is enough
        drivers.append(("bench.read_path", ["--instructions"], 1))
    if not args.quick:
        drivers.append(("bench.platform_figures", [], args.rounds))
    current: dict[str, float] = {}
    previous: dict[str, float] = {}
    for module, arguments, rounds in drivers:
        for round_ in range(1, rounds + 1):
            print(f"   running {module} {' '.join(arguments)} (round {round_} of {rounds}) …", flush=True)
            previous = better(previous, run(module, arguments, old))
            current = better(current, run(module, arguments, None))
    print(f"\n{'figure':<50} {'previous':>10} {'current':>10} {'change':>8}   target")
    for key, words, target, higher in FIGURES:
        if key not in current and key not in previous:
            continue
        before, now = previous.get(key), current.get(key)
        change = ""
        if before and now:
            ratio = now / before if higher else before / now
            change = f"{ratio:.2f}×"
        print(f"{words:<50} {_shown(before):>10} {_shown(now):>10} {change:>8}   {target}")
    print(f"load average after: {os.getloadavg()[0]:.1f} (figures move with the machine's other work)")


# Failures are added up over the rounds, never the better round taken: one round's errors are errors.
COUNTED = {"mix_errors", "mix_events_lost", "read_errors", "claims_failed"}


def better(kept: dict[str, float], new: dict[str, float]) -> dict[str, float]:
    """Each figure's better value of the rounds (the higher, or the lower where lower is better): the
    machine's other work only ever makes a run worse, so the better one is nearer the code's own figure."""
    lower_is_better = {key for key, _, _, higher in FIGURES if not higher}
    merged = dict(kept)
    for key, value in new.items():
        if key not in merged:
            merged[key] = value
        elif key in COUNTED:
            merged[key] += value
        else:
            merged[key] = min(merged[key], value) if key in lower_is_better else max(merged[key], value)
    return merged


def _shown(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}"


if __name__ == "__main__":
    main()
