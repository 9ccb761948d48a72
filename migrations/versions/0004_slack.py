"""Slack: user <-> NCID links, and slack_sdk's OAuth installation and state tables.

Revision ID: 0004_slack
Revises: 0003_tickets
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_slack"
down_revision = "0003_tickets"
branch_labels = None
depends_on = None

# The OAuth tables are slack_sdk's own (SQLAlchemyInstallationStore / SQLAlchemyOAuthStateStore),
# built from its table definitions so the stores find exactly what they expect.
OAUTH_TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


def _oauth_metadata() -> sa.MetaData:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    meta = sa.MetaData()
    SQLAlchemyInstallationStore.build_installations_table(meta, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(meta, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(meta, "slack_oauth_states")
    return meta


def upgrade() -> None:
    op.create_table(
        "slack_user_links",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("ncid", sa.String(length=64), nullable=False),
        sa.Column("linked_by", sa.String(length=32), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_slack_user_links")),
    )
    op.create_index(op.f("ix_slack_user_links_ncid"), "slack_user_links", ["ncid"], unique=False)
    _oauth_metadata().create_all(op.get_bind())


def downgrade() -> None:
    _oauth_metadata().drop_all(op.get_bind())
    op.drop_index(op.f("ix_slack_user_links_ncid"), table_name="slack_user_links")
    op.drop_table("slack_user_links")
