"""The figures of a `make load` run: requests, errors, p50/p99 from locust's CSV, statuses, queued work left, and
the ledger invariants (backend.services.ledger_checks). Exit 1 on any 5xx, any violation or any job left undone."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path


def main(work_dir: str, ledger_exit: str, queued_left: str) -> int:
    work = Path(work_dir)
    rows = list(csv.DictReader((work / "load_stats.csv").open()))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    statuses = json.loads((work / "statuses.json").read_text()) if (work / "statuses.json").exists() else {}
    server_errors = sum(count for status, count in statuses.items() if int(status) >= 500 or int(status) == 0)
    print(f"requests: {total['Request Count']}  errors (5xx or no answer): {total['Failure Count']}  "
          f"p50: {total['50%']} ms  p99: {total['99%']} ms  rps: {float(total['Requests/s']):.1f}")
    print("statuses: " + ", ".join(f"{status}×{count}" for status, count in statuses.items()))
    for row in rows:
        if row["Name"] != "Aggregated":
            print(f"  {row['Type']:5} {row['Name']:50} n={row['Request Count']:>6} fail={row['Failure Count']:>4} "
                  f"p50={row['50%']:>5} p99={row['99%']:>6}")
    print(f"queued work left undone after the drain: {queued_left}")
    failed = int(total["Failure Count"]) > 0 or server_errors > 0 or ledger_exit != "0" or queued_left != "0"
    print("LOAD " + ("FAILED" if failed else "PASSED"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
