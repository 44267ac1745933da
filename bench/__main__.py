"""`python -m bench [name ...]`: run the benchmark suites (all by default) and print one row each."""

from __future__ import annotations

import importlib
import sys

from bench.harness import print_rows

SUITES = ("engine_bench", "nlu_bench", "nlu_accuracy_bench", "allocation_bench", "chat_bench", "settlement_bench")


def main(selected: list[str]) -> int:
    rows = []
    for suite in selected or SUITES:
        module = importlib.import_module(f"bench.{suite}")
        rows.extend(module.rows())
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
