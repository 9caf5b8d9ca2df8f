#!/usr/bin/env python3
"""Two `make bench` runs side by side, function by function: init p50, the own part of a cold
request (p50), CPU per warm invocation, peak RSS and the zip, with the change from the first to
the second. For an A/B of one change (an allocator, a release profile): build both, run
`make bench` on each with its own CARGO_TARGET_DIR, then

    python3 bench/compare.py <first>/bench/results.json <second>/bench/results.json
"""
import json
import sys


def load(path):
    with open(path) as handle:
        run = json.load(handle)
    cases = {case["name"]: case for case in run["functions"]}
    cases["empty (floor)"] = run["floor"]
    return run, cases


def figures(case, sizes):
    size = sizes.get(case["name"].split("@")[0], case.get("size") or {})
    return {
        "init": case["init_ms"]["p50"],
        "own": case["cold_own_ms"]["p50"],
        "cpu": case["cpu_us_per_invocation"],
        "rss": case["peak_rss_kib"] / 1024,
        "zip": (size.get("zip_bytes") or 0) / 2**20,
    }


def main(first_path, second_path):
    first, first_cases = load(first_path)
    second, second_cases = load(second_path)
    print(f"first: {first['generated_at']}  second: {second['generated_at']}")
    header = f"{'case':<26}{'init p50 ms':>18}{'own p50 ms':>18}{'CPU/inv us':>18}{'peak RSS MiB':>20}{'zip MiB':>16}"
    print(header)
    for name, case in first_cases.items():
        if name not in second_cases:
            continue
        a = figures(case, first.get("sizes", {}))
        b = figures(second_cases[name], second.get("sizes", {}))
        cells = [
            f"{a['init']:6.2f} {b['init']:6.2f} {b['init'] - a['init']:+5.2f}",
            f"{a['own']:6.2f} {b['own']:6.2f} {b['own'] - a['own']:+5.2f}",
            f"{a['cpu']:5.0f} {b['cpu']:5.0f} {100 * (b['cpu'] / a['cpu'] - 1):+4.0f}%",
            f"{a['rss']:5.1f} {b['rss']:5.1f} {b['rss'] - a['rss']:+5.1f}",
            f"{a['zip']:4.2f} {b['zip']:4.2f} {b['zip'] - a['zip']:+5.2f}",
        ]
        print(f"{name:<26}" + "".join(f"{cell:>18}" for cell in cells))
    print("(each cell: first, second, change; the floor is lambda_runtime alone, the same in both)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
