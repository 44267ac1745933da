"""staff console: server-side sessions, monitoring flags, the scan of a counter revoke, audit-log indexes

Revision ID: 0006_console
Revises: 0005_chat
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

revision = "0006_console"
down_revision = "0005_chat"
branch_labels = None
depends_on = None

FEN = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql") \
    .with_variant(sqlite.JSON(), "sqlite")


def upgrade():
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_staff_sessions_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_staff_sessions_staff_open", ["staff_id", "ended_at"], unique=False)

    op.create_table(
        "monitoring_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_code", sa.String(length=48), nullable=False),
        sa.Column("subject_key", sa.String(length=160), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("measured", FEN, nullable=False),
        sa.Column("threshold", FEN, nullable=False),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.String(length=1000), nullable=True),
        sa.CheckConstraint("status IN ('open', 'confirmed', 'dismissed')", name=op.f("ck_monitoring_flags_status")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_monitoring_flags_person_id_people")),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"],
                                name=op.f("fk_monitoring_flags_institution_id_institutions")),
        sa.ForeignKeyConstraint(["reviewed_by_staff_id"], ["staff_users.id"],
                                name=op.f("fk_monitoring_flags_reviewed_by_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_flags")),
        sa.UniqueConstraint("rule_code", "subject_key", name=op.f("uq_monitoring_flags_rule_code_subject_key")),
    )
    with op.batch_alter_table("monitoring_flags", schema=None) as batch_op:
        batch_op.create_index("ix_monitoring_flags_status_detected", ["status", "detected_at"], unique=False)

    with op.batch_alter_table("sharing_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoke_signed_promise_path", sa.String(length=400), nullable=True))

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_actor_created", ["actor_kind", "actor_id", "created_at"], unique=False)
        batch_op.create_index("ix_audit_log_action_created", ["action", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_action_created")
        batch_op.drop_index("ix_audit_log_actor_created")
    with op.batch_alter_table("sharing_grants", schema=None) as batch_op:
        batch_op.drop_column("revoke_signed_promise_path")
    with op.batch_alter_table("monitoring_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_flags_status_detected")
    op.drop_table("monitoring_flags")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_sessions_staff_open")
    op.drop_table("staff_sessions")
