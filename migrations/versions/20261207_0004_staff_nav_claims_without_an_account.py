"""claims without an account: name, e-mail (proved by a link), phone for a call-back, the admin's note

Revision ID: 0004_staff_nav
Revises: 0003_keyed_audit_chain
Create Date: 2026-12-07 05:02:12
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_staff_nav"
down_revision: str | None = "0003_keyed_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claim_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
        batch_op.add_column(
            sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column("verify_token_hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch_op.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("callback_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch_op.alter_column("user_id", existing_type=sa.CHAR(length=32), nullable=True)
        batch_op.create_unique_constraint("uq_claim_request_verify_token", ["verify_token_hash"])
    with op.batch_alter_table("claim_request", schema=None) as batch_op:
        batch_op.alter_column("display_name", server_default=None)


def downgrade() -> None:
    op.execute("DELETE FROM claim_request WHERE user_id IS NULL")  # account-less requests cannot be kept
    with op.batch_alter_table("claim_request", schema=None) as batch_op:
        batch_op.drop_constraint("uq_claim_request_verify_token", type_="unique")
        batch_op.alter_column("user_id", existing_type=sa.CHAR(length=32), nullable=False)
        batch_op.drop_column("callback_note")
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("verify_token_hash")
        batch_op.drop_column("phone")
        batch_op.drop_column("display_name")
        batch_op.drop_column("email")
