"""sessions.flow_version: the version each session counts on, filled for stored sessions, and the
index every impact read filters by

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 19:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# As core.models.IMPACT_COLUMNS today; spelled out so that this migration never changes with the code.
IMPACT_COLUMNS = ["status", "ended_at", "psa_ticket_id"]

# As core.sessions.versions today, spelled out for the same reason.
LIVE_VERSION = """
    COALESCE(sessions.matched_flow_version, (
        SELECT fv.version FROM flow_versions fv JOIN flows f ON f.id = fv.flow_id
        WHERE f.account_id = sessions.account_id AND f.external_id = sessions.matched_flow
          AND fv.published_at <= sessions.created_at
        ORDER BY fv.published_at DESC, fv.version DESC LIMIT 1
    ), (
        SELECT fv.version FROM flow_versions fv JOIN flows f ON f.id = fv.flow_id
        WHERE f.account_id = sessions.account_id AND f.external_id = sessions.matched_flow
        ORDER BY fv.published_at, fv.version LIMIT 1))
"""


def upgrade() -> None:
    op.add_column('sessions', sa.Column('flow_version', sa.Integer(), nullable=True))
    # One statement over the sessions that matched a flow; the others stay NULL.
    op.execute(f"UPDATE sessions SET flow_version = {LIVE_VERSION} WHERE matched_flow IS NOT NULL")
    op.create_index('ix_sessions_account_flow_version_created', 'sessions',
                    ['account_id', 'matched_flow', 'flow_version', 'created_at'],
                    postgresql_include=IMPACT_COLUMNS)


def downgrade() -> None:
    op.drop_index('ix_sessions_account_flow_version_created', table_name='sessions')
    with op.batch_alter_table('sessions') as batch_op:
        batch_op.drop_column('flow_version')
