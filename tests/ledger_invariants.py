"""The ledger invariants of backend.services.ledger_checks, as a test assertion."""

from backend.services import ledger_checks


def assert_ledger_invariants(_session=None) -> None:
    broken = {name: count for name, count in ledger_checks.violations().items() if count}
    assert broken == {}, broken
