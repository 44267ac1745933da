"""institutions' signing secrets encrypted at rest (backend.secret_box, key from the environment)

Revision ID: 0007_institution_secrets
Revises: 0006_console
"""
import sqlalchemy as sa
from alembic import op
from flask import current_app

from backend.secret_box import box_for

revision = "0007_institution_secrets"
down_revision = "0006_console"
branch_labels = None
depends_on = None


def _box():
    return box_for(current_app.config.get("SECRETS_ENCRYPTION_KEY"), current_app.config["SECRET_KEY"])


def upgrade():
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=128), type_=sa.Text(), existing_nullable=False)
    connection, box = op.get_bind(), _box()
    for row_id, secret in connection.execute(sa.text("SELECT id, secret FROM institutions")).all():
        connection.execute(sa.text("UPDATE institutions SET secret = :secret WHERE id = :id"),
                           {"secret": box.encrypt(secret.encode()).decode(), "id": row_id})


def downgrade():
    connection, box = op.get_bind(), _box()
    for row_id, secret in connection.execute(sa.text("SELECT id, secret FROM institutions")).all():
        connection.execute(sa.text("UPDATE institutions SET secret = :secret WHERE id = :id"),
                           {"secret": box.decrypt(secret.encode()).decode(), "id": row_id})
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.Text(), type_=sa.String(length=128), existing_nullable=False)
