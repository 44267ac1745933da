"""The row every benchmark reports, and how rows are printed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline_value: float
    target: str  # e.g. "ratio <= 2" or "value >= 20000", as the issue states it
    met: bool | None = None  # None when the target cannot be judged on this machine (e.g. no PostgreSQL)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("nan")


def print_rows(rows: list[Row]) -> None:
    header = f"{'benchmark':44} {'value':>14} {'baseline':>34} {'ratio':>8}  target"
    print(header)
    print("-" * len(header))
    for row in rows:
        verdict = {True: "met", False: "NOT met", None: "n/a"}[row.met]
        baseline = f"{row.baseline_value:,.2f} ({row.baseline_name})"
        print(f"{row.name:44} {row.value:>10,.2f} {row.unit:<3} {baseline:>34} {row.ratio:>8.3f}  "
              f"{row.target} [{verdict}]")
