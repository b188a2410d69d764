"""Per-day step counts for the knowledge-gap report (step_day_counts, step_day_stamps), filled
for the sessions imported before; an index of where flow sessions stopped

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 18:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# As core.sessions.day_counts groups steps today; spelled out so that this migration never changes with
# the code. {day}, {true} and {false} differ between the two databases.
COUNTS = """
INSERT INTO step_day_counts (account_id, day, flow_id, node_id, text_key, step_type, answer, tried,
                             steps, flagged, free_text, failed, reached, sample_text)
SELECT s.account_id, {day}, s.matched_flow, st.node_id,
       CASE WHEN st.node_id IS NULL THEN lower(trim(st.context_message)) END,
       st.step_type,
       CASE WHEN st.was_free_text = {true} THEN lower(trim(st.response)) END,
       {tried},
       count(*),
       count(CASE WHEN st.was_free_text = {true} OR st.outcome = 'failed' THEN 1 END),
       count(CASE WHEN st.was_free_text = {true} THEN 1 END),
       count(CASE WHEN st.outcome = 'failed' THEN 1 END),
       count(CASE WHEN {reach} THEN 1 END),
       max(CASE WHEN st.node_id IS NULL THEN st.context_message END)
FROM sessions s JOIN steps st ON st.session_id = s.id
WHERE {tried} OR {reach}
GROUP BY s.account_id, {day}, s.matched_flow, st.node_id,
         CASE WHEN st.node_id IS NULL THEN lower(trim(st.context_message)) END,
         st.step_type,
         CASE WHEN st.was_free_text = {true} THEN lower(trim(st.response)) END,
         {tried}
"""
TRIED = ("COALESCE((st.step_type = 'question' AND st.response IS NOT NULL) OR "
         "(st.step_type IN ('action', 'script') AND st.outcome IN ('failed', 'succeeded')), {false})")
REACH = ("(s.matched_flow IS NOT NULL AND s.status IN ('resolved', 'escalated', 'requesting_escalation', "
         "'abandoned') AND st.node_id IS NOT NULL AND st.step_type IN ('question', 'action', 'script') "
         "AND st.repeats_previous = {false})")
STAMPS = """
INSERT INTO step_day_stamps (account_id, day, sessions, failed_steps, finished_flow)
SELECT account_id, {day}, count(*), COALESCE(sum(failed_steps), 0),
       count(CASE WHEN matched_flow IS NOT NULL AND status IN ('resolved', 'escalated',
             'requesting_escalation', 'abandoned') THEN 1 END)
FROM sessions s
GROUP BY account_id, {day}
"""


def upgrade() -> None:
    op.create_table('step_day_counts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('flow_id', sa.String(length=128), nullable=True),
    sa.Column('node_id', sa.String(length=64), nullable=True),
    sa.Column('text_key', sa.Text(), nullable=True),
    sa.Column('step_type', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('tried', sa.Boolean(), nullable=False),
    sa.Column('steps', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.Column('free_text', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.Column('sample_text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_step_day_counts_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_step_day_counts'))
    )
    op.create_index('ix_step_day_counts_account_day', 'step_day_counts', ['account_id', 'day'], unique=False)
    op.create_table('step_day_stamps',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('failed_steps', sa.Integer(), nullable=False),
    sa.Column('finished_flow', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_step_day_stamps_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'day', name=op.f('pk_step_day_stamps'))
    )
    # A dead end's newest sessions used to be found by reading every session of its flow.
    op.create_index('ix_sessions_account_flow_stop_created', 'sessions',
                    ['account_id', 'matched_flow', 'stopped_at_node', 'created_at'],
                    postgresql_where=sa.text('stopped_at_node IS NOT NULL'),
                    sqlite_where=sa.text('stopped_at_node IS NOT NULL'))
    # Every session imported so far gets its days counted, so the report is fast at once.
    if op.get_bind().dialect.name == 'postgresql':
        words = {"day": "CAST((s.created_at AT TIME ZONE 'UTC') AS DATE)", "true": "TRUE", "false": "FALSE"}
    else:
        words = {"day": "substr(s.created_at, 1, 10)", "true": "1", "false": "0"}
    tried, reach = TRIED.format(**words), REACH.format(**words)
    op.execute(COUNTS.format(tried=tried, reach=reach, **words))
    op.execute(STAMPS.format(**words))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ANALYZE step_day_counts, step_day_stamps")


def downgrade() -> None:
    op.drop_index('ix_sessions_account_flow_stop_created', table_name='sessions')
    op.drop_table('step_day_stamps')
    op.drop_index('ix_step_day_counts_account_day', table_name='step_day_counts')
    op.drop_table('step_day_counts')
