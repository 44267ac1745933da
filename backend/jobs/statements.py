"""Rendering settlement statements (结算清单) to PDF files."""

from backend.jobs import job
from backend.services import statements


@job("render_statement", queue="default")
def render_statement(setl_id: str, refund_count: int) -> str:
    return statements.render_and_store(setl_id, refund_count)
