"""Tickets: the diagnosis fields the queue filters on (call failure, MFA method), indexed
with the error code.

Revision ID: 0006_ticket_diagnosis
Revises: 0003_tickets
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_ticket_diagnosis"
down_revision = "0003_tickets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("call_failure", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("mfa_method", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_tickets_error_code"), "tickets", ["error_code"], unique=False)
    op.create_index(op.f("ix_tickets_call_failure"), "tickets", ["call_failure"], unique=False)
    op.create_index(op.f("ix_tickets_mfa_method"), "tickets", ["mfa_method"], unique=False)
    # Tickets filed before this revision kept the call failure and method in the diagnosis.
    tickets = sa.table("tickets", sa.column("id", sa.Integer()), sa.column("diagnosis", sa.JSON()),
                       sa.column("call_failure", sa.String()), sa.column("mfa_method", sa.String()))
    connection = op.get_bind()
    for row in connection.execute(sa.select(tickets.c.id, tickets.c.diagnosis)).all():
        found = row.diagnosis if isinstance(row.diagnosis, dict) else {}
        failure, method = found.get("call_failure"), found.get("mfa_method")
        if failure or method:
            connection.execute(tickets.update().where(tickets.c.id == row.id).values(
                call_failure=str(failure)[:32] if failure else None, mfa_method=str(method)[:32] if method else None))


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_mfa_method"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_call_failure"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_error_code"), table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("mfa_method")
        batch.drop_column("call_failure")
