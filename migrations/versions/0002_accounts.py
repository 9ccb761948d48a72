"""Accounts: the MFA directory, identity checks, activation codes, test calls, audit log.

Revision ID: 0002_accounts
Revises: 0001_core
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_accounts"
down_revision = "0001_core"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mfa_accounts",
        sa.Column("ncid", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("ncid_created_at", TZ, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=True),
        sa.Column("primary_phone", sa.String(length=20), nullable=True),
        sa.Column("secondary_phone", sa.String(length=20), nullable=True),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("ncid", name=op.f("pk_mfa_accounts")),
    )
    op.create_table(
        "mfa_security_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ncid", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=255), nullable=False),
        sa.Column("answer_hash", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["ncid"], ["mfa_accounts.ncid"],
            name=op.f("fk_mfa_security_answers_ncid_mfa_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_security_answers")),
    )
    op.create_index(
        "ix_mfa_security_answers_ncid_position", "mfa_security_answers", ["ncid", "position"], unique=True
    )
    op.create_table(
        "mfa_activation_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ncid", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ncid"], ["mfa_accounts.ncid"],
            name=op.f("fk_mfa_activation_codes_ncid_mfa_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_activation_codes")),
    )
    op.create_index(op.f("ix_mfa_activation_codes_ncid"), "mfa_activation_codes", ["ncid"], unique=False)
    op.create_table(
        "mfa_identity_lockouts",
        sa.Column("ncid", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", TZ, nullable=True),
        sa.Column("positions", sa.JSON(), nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("ncid", name=op.f("pk_mfa_identity_lockouts")),
    )
    op.create_table(
        "mfa_identity_checks",
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("ncid", sa.String(length=64), nullable=False),
        sa.Column("positions", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("verified_until", TZ, nullable=True),
        sa.PrimaryKeyConstraint("sender_id", name=op.f("pk_mfa_identity_checks")),
    )
    op.create_table(
        "mfa_test_calls",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("ncid", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=True),
        sa.Column("leg", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_test_calls")),
    )
    op.create_index(op.f("ix_mfa_test_calls_call_sid"), "mfa_test_calls", ["call_sid"], unique=False)
    op.create_index(
        "ix_mfa_test_calls_ncid_created_at", "mfa_test_calls", ["ncid", "created_at"], unique=False
    )
    op.create_table(
        "mfa_audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("ncid", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=48), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_audit_log")),
    )
    op.create_index(op.f("ix_mfa_audit_log_at"), "mfa_audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_mfa_audit_log_ncid"), "mfa_audit_log", ["ncid"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_mfa_audit_log_ncid"), table_name="mfa_audit_log")
    op.drop_index(op.f("ix_mfa_audit_log_at"), table_name="mfa_audit_log")
    op.drop_table("mfa_audit_log")
    op.drop_index("ix_mfa_test_calls_ncid_created_at", table_name="mfa_test_calls")
    op.drop_index(op.f("ix_mfa_test_calls_call_sid"), table_name="mfa_test_calls")
    op.drop_table("mfa_test_calls")
    op.drop_table("mfa_identity_checks")
    op.drop_table("mfa_identity_lockouts")
    op.drop_index(op.f("ix_mfa_activation_codes_ncid"), table_name="mfa_activation_codes")
    op.drop_table("mfa_activation_codes")
    op.drop_index("ix_mfa_security_answers_ncid_position", table_name="mfa_security_answers")
    op.drop_table("mfa_security_answers")
    op.drop_table("mfa_accounts")
