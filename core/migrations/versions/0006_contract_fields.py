"""The interchange contract's new optional fields: sessions.psa_company and
sessions.matched_flow_version (a flow record's published_at goes in flow_versions.published_at)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 18:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: adding them rewrites no rows on either database, however many
    # sessions are stored. Sessions imported before stay NULL: their files never carried them.
    op.add_column('sessions', sa.Column('matched_flow_version', sa.Integer(), nullable=True))
    op.add_column('sessions', sa.Column('psa_company', sa.String(length=256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessions') as batch_op:
        batch_op.drop_column('psa_company')
        batch_op.drop_column('matched_flow_version')
