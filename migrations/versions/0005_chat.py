"""chat sessions (ownership beyond the Redis state), reply payloads, escalation timeouts

Revision ID: 0005_chat
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

revision = "0005_chat"
down_revision = "0004_applications"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_chat_sessions_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
    )
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_sessions_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
            .with_variant(sqlite.JSON(), "sqlite"),
            nullable=True,
        ))

    with op.batch_alter_table("chat_escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_agent_activity_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_reason", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("chat_escalations", schema=None) as batch_op:
        batch_op.drop_column("closed_reason")
        batch_op.drop_column("last_agent_activity_at")

    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_column("payload")

    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_sessions_person_id"))
    op.drop_table("chat_sessions")
