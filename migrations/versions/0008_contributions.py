"""contributions paid from an account, booked for the relative they pay for (NX §31)

Revision ID: 0008_contributions
Revises: 0007_institution_secrets
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_contributions"
down_revision = "0007_institution_secrets"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("individual_account_id", sa.Integer(), nullable=False),
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.Column("beneficiary_name", sa.String(length=64), nullable=False),
        sa.Column("beneficiary_id_number", sa.String(length=18), nullable=False),
        sa.Column("amount_fen", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_account_contributions_amount_positive")),
        sa.ForeignKeyConstraint(["individual_account_id"], ["individual_accounts.id"],
                                name=op.f("fk_account_contributions_individual_account_id_individual_accounts")),
        sa.ForeignKeyConstraint(["posting_id"], ["ledger_postings.id"],
                                name=op.f("fk_account_contributions_posting_id_ledger_postings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_contributions")),
        sa.UniqueConstraint("kind", "beneficiary_id_number", "year", name="uq_account_contributions_beneficiary_year"),
        sa.UniqueConstraint("posting_id", name=op.f("uq_account_contributions_posting_id")),
    )
    with op.batch_alter_table("account_contributions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_contributions_individual_account_id"), ["individual_account_id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("account_contributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_contributions_individual_account_id"))
    op.drop_table("account_contributions")
