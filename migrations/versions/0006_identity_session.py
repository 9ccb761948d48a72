"""Issue 14: an identity check is bound to the channel session that passed it.

Revision ID: 0006_identity_session
Revises: 0002_accounts
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_identity_session"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A digest of the session (web credential, Slack user, API client, client address);
    # rows from before have none, so they verify nobody until checked again.
    with op.batch_alter_table("mfa_identity_checks") as batch:
        batch.add_column(sa.Column("session_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mfa_identity_checks") as batch:
        batch.drop_column("session_key")
