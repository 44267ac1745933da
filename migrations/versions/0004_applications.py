"""invoice numbers held by open reimbursement applications

Revision ID: 0004_applications
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_applications"
down_revision = "0003_benefits"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "invoice_claims",
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name=op.f("fk_invoice_claims_application_id_applications")),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_invoice_claims")),
    )
    with op.batch_alter_table("invoice_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_claims_application_id"), ["application_id"], unique=False)


def downgrade():
    with op.batch_alter_table("invoice_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_claims_application_id"))
    op.drop_table("invoice_claims")
