"""Printable documents built from service results (no database access here: callers pass the data in)."""

from backend.reports.statement_pdf import (
    FONT_CANDIDATES,
    InvalidStatement,
    StatementData,
    StatementFontNotFound,
    StatementLine,
    StatementRefund,
    find_statement_font,
    render_statement,
)

__all__ = [
    "FONT_CANDIDATES",
    "InvalidStatement",
    "StatementData",
    "StatementFontNotFound",
    "StatementLine",
    "StatementRefund",
    "find_statement_font",
    "render_statement",
]
