"""The sessions' (account, start) index carries the columns the reports read (PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:00:00
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# As core.models.REPORT_COLUMNS today; spelled out so that this migration never changes with the code.
REPORT_COLUMNS = [
    "id", "status", "ended_at", "problem_domain", "confidence_tier", "matched_flow", "engineer",
    "failed_steps", "stopped_at_node", "psa_ticket_id", "psa_board", "psa_priority", "psa_opened_at",
    "psa_closed_at", "psa_sla_due_at", "psa_time_spent_minutes",
]


def upgrade() -> None:
    # The metrics and the gap report read both periods of one account's sessions, a few narrow
    # columns each: as an index-only scan of this range instead of a scan of the whole table
    # with its free texts. SQLite has no INCLUDE; its index stays as it was.
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_sessions_account_created', table_name='sessions')
        op.create_index('ix_sessions_account_created', 'sessions', ['account_id', 'created_at'],
                        postgresql_include=REPORT_COLUMNS)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_sessions_account_created', table_name='sessions')
        op.create_index('ix_sessions_account_created', 'sessions', ['account_id', 'created_at'])
