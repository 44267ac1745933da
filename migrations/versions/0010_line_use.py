"""what a fee line is for (public health, fitness, wellness …): the account's payment scope judges it

Revision ID: 0010_line_use
Revises: 0009_status_history
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_line_use"
down_revision = "0009_status_history"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("settlement_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("use_category", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("settlement_lines", schema=None) as batch_op:
        batch_op.drop_column("use_category")
