"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 01:22:16.052321
"""
from alembic import op
import sqlalchemy as sa
import core.types
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('settings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('slug', name=op.f('uq_accounts_slug'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('flows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=True),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_flows_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flows')),
    sa.UniqueConstraint('account_id', 'external_id', name=op.f('uq_flows_account_id_external_id'))
    )
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.create_index('ix_flows_account_domain', ['account_id', 'domain'], unique=False)

    op.create_table('memberships',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'manager', 'analyst')", name=op.f('ck_memberships_role')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_memberships_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'account_id', name=op.f('pk_memberships'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_account_id'), ['account_id'], unique=False)

    op.create_table('sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('engineer', sa.String(length=320), nullable=True),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('problem_domain', sa.String(length=64), nullable=True),
    sa.Column('problem_summary', sa.Text(), nullable=True),
    sa.Column('confidence_tier', sa.String(length=16), nullable=True),
    sa.Column('matched_flow', sa.String(length=128), nullable=True),
    sa.Column('resolution_summary', sa.Text(), nullable=True),
    sa.Column('root_cause', sa.Text(), nullable=True),
    sa.Column('psa_ticket_id', sa.String(length=128), nullable=True),
    sa.Column('psa_system', sa.String(length=64), nullable=True),
    sa.Column('psa_board', sa.String(length=128), nullable=True),
    sa.Column('psa_priority', sa.String(length=32), nullable=True),
    sa.Column('psa_opened_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('psa_closed_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('psa_sla_due_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('psa_time_spent_minutes', sa.Float(), nullable=True),
    sa.Column('step_count', sa.Integer(), nullable=False),
    sa.Column('imported_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("confidence_tier IS NULL OR confidence_tier IN ('guided', 'assisted', 'discovery')", name=op.f('ck_sessions_confidence_tier')),
    sa.CheckConstraint("status IN ('active', 'resolved', 'escalated', 'requesting_escalation', 'abandoned')", name=op.f('ck_sessions_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_sessions_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('account_id', 'external_id', name=op.f('uq_sessions_account_id_external_id'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_account_created', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_sessions_account_domain_created', ['account_id', 'problem_domain', 'created_at'], unique=False)
        batch_op.create_index('ix_sessions_account_flow_created', ['account_id', 'matched_flow', 'created_at'], unique=False)

    op.create_table('analysis_queue',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('enqueued_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('available_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('finished_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=True),
    sa.Column('result_detail', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'claimed', 'done', 'failed')", name=op.f('ck_analysis_queue_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_analysis_queue_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_analysis_queue_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_queue')),
    sa.UniqueConstraint('session_id', name=op.f('uq_analysis_queue_session_id'))
    )
    with op.batch_alter_table('analysis_queue', schema=None) as batch_op:
        batch_op.create_index('ix_analysis_queue_account_status', ['account_id', 'status'], unique=False)
        batch_op.create_index('ix_analysis_queue_status_available', ['status', 'available_at'], unique=False)

    op.create_table('flow_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('proposal_type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('evidence_key', sa.String(length=255), nullable=True),
    sa.Column('target_flow_id', sa.Integer(), nullable=True),
    sa.Column('target_flow_version', sa.Integer(), nullable=True),
    sa.Column('tree', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('diff', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('support_count', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('confidence_rationale', sa.Text(), nullable=True),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("proposal_type IN ('new_flow', 'enhancement')", name=op.f('ck_flow_proposals_proposal_type')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'published', 'dismissed', 'rejected')", name=op.f('ck_flow_proposals_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_flow_proposals_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_user_id'], ['users.id'], name=op.f('fk_flow_proposals_reviewed_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_flow_id'], ['flows.id'], name=op.f('fk_flow_proposals_target_flow_id_flows'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_proposals'))
    )
    with op.batch_alter_table('flow_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_flow_proposals_account_key', ['account_id', 'evidence_key'], unique=False)
        batch_op.create_index('ix_flow_proposals_account_status_created', ['account_id', 'status', 'created_at'], unique=False)

    op.create_table('steps',
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('step_type', sa.String(length=16), nullable=False),
    sa.Column('node_id', sa.String(length=64), nullable=True),
    sa.Column('context_message', sa.Text(), nullable=True),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('was_free_text', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('responded_at', core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('succeeded', 'failed', 'skipped')", name=op.f('ck_steps_outcome')),
    sa.CheckConstraint("step_type IN ('question', 'action', 'script', 'note', 'resolution', 'escalation')", name=op.f('ck_steps_step_type')),
    sa.PrimaryKeyConstraint('session_id', 'seq', name=op.f('pk_steps'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('flow_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('tree_before', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('tree_after', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_audit_log_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['flow_id'], ['flows.id'], name=op.f('fk_audit_log_flow_id_flows'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['flow_proposals.id'], name=op.f('fk_audit_log_proposal_id_flow_proposals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_account_created', ['account_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('flow_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flow_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tree', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('published_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by_user_id', sa.Integer(), nullable=True),
    sa.Column('source_proposal_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("source IN ('import', 'proposal', 'edit')", name=op.f('ck_flow_versions_source')),
    sa.ForeignKeyConstraint(['flow_id'], ['flows.id'], name=op.f('fk_flow_versions_flow_id_flows'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_user_id'], ['users.id'], name=op.f('fk_flow_versions_published_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_proposal_id'], ['flow_proposals.id'], name=op.f('fk_flow_versions_source_proposal_id_flow_proposals'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_versions')),
    sa.UniqueConstraint('flow_id', 'version', name=op.f('uq_flow_versions_flow_id_version'))
    )
    op.create_table('proposal_sessions',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('added_at', core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['flow_proposals.id'], name=op.f('fk_proposal_sessions_proposal_id_flow_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_proposal_sessions_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'session_id', name=op.f('pk_proposal_sessions'))
    )
    with op.batch_alter_table('proposal_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_sessions_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('proposal_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_sessions_session_id'))

    op.drop_table('proposal_sessions')
    op.drop_table('flow_versions')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_proposal_id'))
        batch_op.drop_index('ix_audit_log_account_created')

    op.drop_table('audit_log')
    op.drop_table('steps')
    with op.batch_alter_table('flow_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_proposals_account_status_created')
        batch_op.drop_index('ix_flow_proposals_account_key')

    op.drop_table('flow_proposals')
    with op.batch_alter_table('analysis_queue', schema=None) as batch_op:
        batch_op.drop_index('ix_analysis_queue_status_available')
        batch_op.drop_index('ix_analysis_queue_account_status')

    op.drop_table('analysis_queue')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_account_flow_created')
        batch_op.drop_index('ix_sessions_account_domain_created')
        batch_op.drop_index('ix_sessions_account_created')

    op.drop_table('sessions')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_account_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.drop_index('ix_flows_account_domain')

    op.drop_table('flows')
    op.drop_table('users')
    op.drop_table('accounts')
