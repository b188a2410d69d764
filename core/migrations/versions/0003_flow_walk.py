"""How each session walked its flow (sessions.stopped_at_node, steps.repeats_previous), the
flagged-steps index, and PostgreSQL statistics for the report groupings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 04:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# As in core.flows.walk; spelled out so that this migration never changes with the code.
FLOW_STEP_TYPES = "('question', 'action', 'script')"
NODE_STEP_TYPES = "('question', 'action', 'script', 'resolution', 'escalation')"


def upgrade() -> None:
    # The knowledge-gap report's dead ends used to replay every step of the period in order per
    # session (a window over all of them); the import now records the two facts they need.
    op.add_column('sessions', sa.Column('stopped_at_node', sa.String(length=64), nullable=True))
    op.add_column('steps', sa.Column('repeats_previous', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE steps SET repeats_previous = TRUE WHERE (session_id, seq) IN ("
        " SELECT session_id, seq FROM ("
        "  SELECT session_id, seq, node_id, lag(node_id) OVER (PARTITION BY session_id ORDER BY seq) AS previous"
        f"  FROM steps WHERE node_id IS NOT NULL AND step_type IN {NODE_STEP_TYPES}) AS walked"
        " WHERE previous = node_id)"
    )
    op.execute(
        "UPDATE sessions SET stopped_at_node = ("
        f" SELECT CASE WHEN st.step_type IN {FLOW_STEP_TYPES} THEN st.node_id END FROM steps st"
        f" WHERE st.session_id = sessions.id AND st.node_id IS NOT NULL AND st.step_type IN {NODE_STEP_TYPES}"
        " ORDER BY st.seq DESC LIMIT 1)"
    )
    dialect = op.get_bind().dialect.name
    flagged = ("step_type = 'question' AND was_free_text{} AND response IS NOT NULL "
               "OR step_type IN ('action', 'script') AND outcome = 'failed'")
    op.create_index('ix_steps_flagged_node', 'steps', ['node_id', 'session_id'],
                    postgresql_where=sa.text(flagged.format("")), sqlite_where=sa.text(flagged.format(" = 1")))
    if dialect == 'postgresql':
        # Without it the planner takes every distinct start time for a distinct day, expects a
        # group per session in the metrics' per-day counts and will not aggregate in parallel.
        op.execute("CREATE STATISTICS IF NOT EXISTS st_sessions_utc_day "
                   "ON (CAST((created_at AT TIME ZONE 'UTC') AS DATE)) FROM sessions")
        # The gap report groups steps by node, type, question wording and typed answer: without
        # joint statistics the planner multiplies the columns' distinct counts, expects hundreds
        # of thousands of groups where there are hundreds, and sorts instead of hashing.
        op.execute("CREATE STATISTICS IF NOT EXISTS st_steps_gap_keys (ndistinct) ON node_id, step_type, "
                   "(CASE WHEN node_id IS NULL THEN lower(trim(context_message)) END), "
                   "(CASE WHEN was_free_text IS TRUE THEN lower(trim(response)) END) FROM steps")
        op.execute("ANALYZE sessions, steps")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP STATISTICS IF EXISTS st_sessions_utc_day")
        op.execute("DROP STATISTICS IF EXISTS st_steps_gap_keys")
    op.drop_index('ix_steps_flagged_node', table_name='steps')
    with op.batch_alter_table('steps') as batch_op:
        batch_op.drop_column('repeats_previous')
    with op.batch_alter_table('sessions') as batch_op:
        batch_op.drop_column('stopped_at_node')
