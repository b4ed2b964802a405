"""routing, feed and webhooks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:41:45.016559
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('applied_events',
    sa.Column('consumer', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_applied_events'))
    )
    op.create_table('police_zones',
    sa.Column('insee_code', sa.String(length=5), nullable=False),
    sa.Column('service_code', sa.String(length=32), nullable=False),
    sa.Column('service_name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('insee_code', name=op.f('pk_police_zones'))
    )
    op.create_table('gtfs_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('routes_count', sa.Integer(), nullable=False),
    sa.Column('stops_count', sa.Integer(), nullable=False),
    sa.Column('route_stops_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_gtfs_feeds_operator_id_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gtfs_feeds')),
    sa.UniqueConstraint('operator_id', name=op.f('uq_gtfs_feeds_operator_id'))
    )
    op.create_table('gtfs_route_stops',
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('route_id', sa.String(length=64), nullable=False),
    sa.Column('stop_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_gtfs_route_stops_operator_id_operators')),
    sa.PrimaryKeyConstraint('operator_id', 'route_id', 'stop_id', name=op.f('pk_gtfs_route_stops'))
    )
    op.create_table('gtfs_routes',
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('route_id', sa.String(length=64), nullable=False),
    sa.Column('short_name', sa.String(length=64), nullable=False),
    sa.Column('long_name', sa.String(length=255), nullable=False),
    sa.Column('route_type', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_gtfs_routes_operator_id_operators')),
    sa.PrimaryKeyConstraint('operator_id', 'route_id', name=op.f('pk_gtfs_routes'))
    )
    op.create_table('gtfs_stops',
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('stop_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('location_type', sa.Integer(), nullable=False),
    sa.Column('parent_station', sa.String(length=64), nullable=True),
    sa.Column('insee_code', sa.String(length=5), nullable=True),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_gtfs_stops_operator_id_operators')),
    sa.PrimaryKeyConstraint('operator_id', 'stop_id', name=op.f('pk_gtfs_stops'))
    )
    op.create_index('ix_gtfs_stops_parent', 'gtfs_stops', ['operator_id', 'parent_station'])
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_webhook_deliveries_operator_id_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('operator_id', 'event_id', name='uq_webhook_deliveries_event')
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('webhooks',
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_webhooks_operator_id_operators')),
    sa.PrimaryKeyConstraint('operator_id', name=op.f('pk_webhooks'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_for', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('event_sequence', sa.Integer(), nullable=False, server_default=sa.text('0')))
        batch_op.create_index('ix_incidents_unacknowledged', ['priority', 'status', 'received_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_unacknowledged')
        batch_op.drop_column('event_sequence')
        batch_op.drop_column('escalated_for')

    op.drop_table('webhooks')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    op.drop_index('ix_gtfs_stops_parent', table_name='gtfs_stops')
    op.drop_table('gtfs_stops')
    op.drop_table('gtfs_routes')
    op.drop_table('gtfs_route_stops')
    op.drop_table('gtfs_feeds')
    op.drop_table('police_zones')
    op.drop_table('applied_events')

