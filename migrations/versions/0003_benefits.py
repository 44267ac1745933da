"""settlement details for statements, idempotent repeats and exact partial refunds; clearing look-ups

Revision ID: 0003_benefits
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

revision = "0003_benefits"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql").with_variant(
    sqlite.JSON(), "sqlite")


def upgrade():
    # institutions.kind was String(16), too short for "community_health_centre": PostgreSQL refused NM-C-001.
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=16), type_=sa.String(length=32),
                              existing_nullable=False)
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_name", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("institution_level", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("bucket", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("fund_share_bp", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("disease_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("invoice_no", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("engine_input", JSON_DOCUMENT, nullable=True))
        batch_op.create_index("ix_settlements_institution_month", ["institution_id", "clearing_month"], unique=False)
    with op.batch_alter_table("settlement_refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_nos", JSON_DOCUMENT, nullable=True))
        batch_op.add_column(sa.Column("balc", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("accumulator_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accumulator_entries_settlement_id"), ["settlement_id"], unique=False)


def downgrade():
    with op.batch_alter_table("accumulator_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accumulator_entries_settlement_id"))
    with op.batch_alter_table("settlement_refunds", schema=None) as batch_op:
        batch_op.drop_column("request_hash")
        batch_op.drop_column("balc")
        batch_op.drop_column("line_nos")
    with op.batch_alter_table("settlements", schema=None) as batch_op:
        batch_op.drop_index("ix_settlements_institution_month")
        batch_op.drop_column("engine_input")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("invoice_no")
        batch_op.drop_column("disease_code")
        batch_op.drop_column("fund_share_bp")
        batch_op.drop_column("bucket")
        batch_op.drop_column("institution_level")
        batch_op.drop_column("institution_name")
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=32), type_=sa.String(length=16),
                              existing_nullable=False)
