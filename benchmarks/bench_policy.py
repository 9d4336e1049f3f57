"""Policy decisions per second: the compiled role × field × purpose table against a
bare dictionary lookup of the same keys (the floor any implementation pays).

    uv run python -m benchmarks.bench_policy [--decisions N]
"""

from __future__ import annotations

import argparse
import itertools
import time

from benchmarks._common import result
from pulsecrm.catalog import default_catalog
from pulsecrm.kernel.policy import Policy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=2_000_000)
    args = parser.parse_args()
    catalog = default_catalog()
    policy = Policy(catalog)
    keys = list(itertools.product(catalog.roles, catalog.fields, catalog.purposes))
    stream = list(itertools.islice(itertools.cycle(keys), args.decisions))
    decide = policy.decide

    started = time.perf_counter()
    for role, field, purpose in stream:
        decide(role, field, purpose)
    privacy = time.perf_counter() - started

    table = {k: 1 for k in keys}
    started = time.perf_counter()
    for role, field, purpose in stream:
        table.get((role, field, purpose), 0)
    baseline = time.perf_counter() - started
    result("policy_decisions", args.decisions / privacy, args.decisions / baseline, "decisions/s")


if __name__ == "__main__":
    main()
