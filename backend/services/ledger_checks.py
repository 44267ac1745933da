"""The ledger's invariants, checked in SQL over the whole database (`flask check-ledger`, `make load`, tests).

Each check is one query counting the rows that break it; zero everywhere is a healthy ledger.
"""

from __future__ import annotations

from sqlalchemy import text

from backend.extensions import db

SIGNED = "CASE WHEN e.side = 'credit' THEN e.amount_fen ELSE -e.amount_fen END"

INVARIANTS: dict[str, str] = {
    "balance equals the sum of its entries": f"""
        SELECT count(*) FROM individual_accounts a
        WHERE a.balance_fen <> (SELECT coalesce(sum({SIGNED}), 0) FROM ledger_entries e
                                WHERE e.individual_account_id = a.id)""",
    "no negative balance": "SELECT count(*) FROM individual_accounts WHERE balance_fen < 0",
    "every posting balanced": f"""
        SELECT count(*) FROM (SELECT e.posting_id FROM ledger_entries e GROUP BY e.posting_id
                              HAVING sum({SIGNED}) <> 0) unbalanced""",
    "no posting without entries": """
        SELECT count(*) FROM ledger_postings p
        WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.posting_id = p.id)""",
    "no settlement paid twice (account payments equal the settlement's account parts)": """
        SELECT count(*) FROM settlements s
        WHERE s.acct_pay + s.acct_mulaid_pay <> (
            SELECT coalesce(sum(e.amount_fen), 0) FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id
            WHERE p.settlement_id = s.id AND p.kind = 'account_payment' AND e.individual_account_id IS NOT NULL)""",
    "no order number settled twice": """
        SELECT count(*) FROM (SELECT institution_id, order_no FROM settlements WHERE order_no IS NOT NULL
                              GROUP BY institution_id, order_no HAVING count(*) > 1) twice""",
    "refunds at most the original": """
        SELECT count(*) FROM settlements s JOIN (
            SELECT settlement_id, sum(medfee_sumamt) AS medfee, sum(hifp_pay) AS hifp, sum(acct_pay) AS acct,
                   sum(acct_mulaid_pay) AS mulaid, sum(psn_cash_pay) AS cash
            FROM settlement_refunds GROUP BY settlement_id) r ON r.settlement_id = s.id
        WHERE r.medfee > s.medfee_sumamt OR r.hifp > s.hifp_pay OR r.acct > s.acct_pay
           OR r.mulaid > s.acct_mulaid_pay OR r.cash > s.psn_cash_pay""",
    "account refunds at most the payment they return": """
        SELECT count(*) FROM ledger_postings pay JOIN (
            SELECT p.reverses_posting_id AS id, sum(e.amount_fen) AS refunded
            FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id
            WHERE p.kind = 'refund' AND e.individual_account_id IS NOT NULL GROUP BY p.reverses_posting_id) r
            ON r.id = pay.id
        WHERE r.refunded > (SELECT sum(e.amount_fen) FROM ledger_entries e
                            WHERE e.posting_id = pay.id AND e.individual_account_id IS NOT NULL)""",
    "accumulators equal the sum of their entries": """
        SELECT count(*) FROM accumulators a
        WHERE a.amount_fen <> (SELECT coalesce(sum(x.delta_fen), 0) FROM accumulator_entries x
                               WHERE x.person_id = a.person_id AND x.year = a.year AND x.bucket = a.bucket)""",
    "no accumulator entries without their accumulator": """
        SELECT count(*) FROM (SELECT person_id, year, bucket FROM accumulator_entries
                              GROUP BY person_id, year, bucket HAVING sum(delta_fen) <> 0) x
        WHERE NOT EXISTS (SELECT 1 FROM accumulators a WHERE a.person_id = x.person_id AND a.year = x.year
                          AND a.bucket = x.bucket)""",
}


def violations() -> dict[str, int]:
    """Invariant name → number of rows breaking it. Read-only."""
    counts = {name: int(db.session.scalar(text(sql))) for name, sql in INVARIANTS.items()}
    db.session.rollback()
    return counts
