"""The benchmark baseline use case: the smallest write on the same stack (one audit row, one commit)."""

from backend.extensions import db
from backend.services import audit


def write_one_row(institution_code: str, key: str) -> None:
    audit.record("institution", institution_code, "bench_one_row", "bench", key)
    db.session.commit()
