"""status history with effective dates: visits are judged by the status in force on their date

Revision ID: 0009_status_history
Revises: 0008_contributions
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_status_history"
down_revision = "0008_contributions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "person_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'arrears', 'suspended', 'terminated')",
                           name=op.f("ck_person_status_changes_status")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_person_status_changes_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_status_changes")),
    )
    with op.batch_alter_table("person_status_changes", schema=None) as batch_op:
        batch_op.create_index("ix_person_status_changes_person_effective", ["person_id", "effective_from"],
                              unique=False)
    # What is known so far: today's status, in force since the person was first imported.
    day = "date(created_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(created_at AS DATE)"
    op.execute(
        "INSERT INTO person_status_changes (person_id, status, effective_from, recorded_at) "
        f"SELECT id, status, {day}, created_at FROM people"
    )


def downgrade():
    with op.batch_alter_table("person_status_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_person_status_changes_person_effective")
    op.drop_table("person_status_changes")
