"""sessions.failed_steps: failed action and script steps, counted at import

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Analytics ask "did any action or script fail?" of every session in a period; a count
    # kept on the session answers that without reading the steps table.
    op.add_column('sessions', sa.Column('failed_steps', sa.Integer(), server_default='0', nullable=False))
    op.execute(
        "UPDATE sessions SET failed_steps = (SELECT count(*) FROM steps "
        "WHERE steps.session_id = sessions.id AND steps.step_type IN ('action', 'script') "
        "AND steps.outcome = 'failed') "
        "WHERE EXISTS (SELECT 1 FROM steps WHERE steps.session_id = sessions.id "
        "AND steps.step_type IN ('action', 'script') AND steps.outcome = 'failed')"
    )


def downgrade() -> None:
    with op.batch_alter_table('sessions') as batch_op:
        batch_op.drop_column('failed_steps')
