"""Staff console: staff accounts and sessions, ticket work and notes, handoffs, NLU reviews.

Revision ID: 0005_staff
Revises: 0003_tickets
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_staff"
down_revision = "0003_tickets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_enrolled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"],
                                name=op.f("fk_staff_sessions_user_id_staff_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
    )
    op.create_index(op.f("ix_staff_sessions_user_id"), "staff_sessions", ["user_id"], unique=False)
    op.create_table(
        "staff_ticket_work",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_staff_ticket_work_ticket_id_tickets"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["assignee_id"], ["staff_users.id"],
                                name=op.f("fk_staff_ticket_work_assignee_id_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_staff_ticket_work")),
    )
    op.create_index(op.f("ix_staff_ticket_work_assignee_id"), "staff_ticket_work", ["assignee_id"], unique=False)
    op.create_table(
        "staff_ticket_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_staff_ticket_notes_ticket_id_tickets"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["staff_users.id"],
                                name=op.f("fk_staff_ticket_notes_author_id_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_ticket_notes")),
    )
    op.create_index(op.f("ix_staff_ticket_notes_ticket_id"), "staff_ticket_notes", ["ticket_id"], unique=False)
    op.create_table(
        "staff_handoffs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["staff_users.id"],
                                name=op.f("fk_staff_handoffs_agent_id_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_handoffs")),
    )
    op.create_index(op.f("ix_staff_handoffs_sender_id"), "staff_handoffs", ["sender_id"], unique=False)
    op.create_index(op.f("ix_staff_handoffs_state"), "staff_handoffs", ["state"], unique=False)
    op.create_table(
        "staff_nlu_reviews",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reviewer_id"], ["staff_users.id"],
                                name=op.f("fk_staff_nlu_reviews_reviewer_id_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_staff_nlu_reviews")),
    )


def downgrade() -> None:
    op.drop_table("staff_nlu_reviews")
    op.drop_index(op.f("ix_staff_handoffs_state"), table_name="staff_handoffs")
    op.drop_index(op.f("ix_staff_handoffs_sender_id"), table_name="staff_handoffs")
    op.drop_table("staff_handoffs")
    op.drop_index(op.f("ix_staff_ticket_notes_ticket_id"), table_name="staff_ticket_notes")
    op.drop_table("staff_ticket_notes")
    op.drop_index(op.f("ix_staff_ticket_work_assignee_id"), table_name="staff_ticket_work")
    op.drop_table("staff_ticket_work")
    op.drop_index(op.f("ix_staff_sessions_user_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
