"""Initial schema: parks, signals, import batches with rejected rows and changes, score runs.

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 13:52:04.455514
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('filename', sa.String(length=500), nullable=True),
    sa.Column('preset', sa.String(length=50), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('stored', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unchanged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    op.create_table('score_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.String(length=50), nullable=False),
    sa.Column('model_hash', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('input_counts', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('timings', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_runs'))
    )
    op.create_table('import_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=16), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.String(length=200), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_import_changes_batch_id_import_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_changes'))
    )
    with op.batch_alter_table('import_changes', schema=None) as batch_op:
        batch_op.create_index('ix_import_changes_batch', ['batch_id'], unique=False)

    op.create_table('parks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('source_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=20), server_default='unknown', nullable=False),
    sa.Column('municipality_code', sa.String(length=6), nullable=True),
    sa.Column('municipality_name', sa.String(length=100), nullable=True),
    sa.Column('province', sa.String(length=50), nullable=True),
    sa.Column('unit_count', sa.Integer(), nullable=True),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('operator', sa.String(length=200), nullable=True),
    sa.Column('takeover_year', sa.Integer(), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('geom_wkb', sa.LargeBinary(), nullable=False),
    sa.Column('minx', sa.Float(), nullable=False),
    sa.Column('miny', sa.Float(), nullable=False),
    sa.Column('maxx', sa.Float(), nullable=False),
    sa.Column('maxy', sa.Float(), nullable=False),
    sa.Column('row_hash', sa.String(length=40), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("kind in ('bungalowpark','camping','caravanpark','unknown')", name=op.f('ck_parks_kind')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_parks_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parks')),
    sa.UniqueConstraint('source', 'source_id', name='uq_parks_source_id')
    )
    with op.batch_alter_table('parks', schema=None) as batch_op:
        batch_op.create_index('ix_parks_bbox', ['minx', 'miny', 'maxx', 'maxy'], unique=False)
        batch_op.create_index('ix_parks_municipality', ['municipality_code'], unique=False)

    op.create_table('rejected_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_rejected_rows_batch_id_import_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejected_rows'))
    )
    with op.batch_alter_table('rejected_rows', schema=None) as batch_op:
        batch_op.create_index('ix_rejected_rows_batch', ['batch_id', 'row_number'], unique=False)

    op.create_table('park_scores',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('risk_class', sa.String(length=10), nullable=False),
    sa.Column('themes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('factors', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('freshness', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('change', sa.Float(), nullable=True),
    sa.Column('hotspot', sa.String(length=5), nullable=True),
    sa.Column('hotspot_p', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_park_scores_park_id_parks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['score_runs.id'], name=op.f('fk_park_scores_run_id_score_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'park_id', name=op.f('pk_park_scores'))
    )
    with op.batch_alter_table('park_scores', schema=None) as batch_op:
        batch_op.create_index('ix_park_scores_park', ['park_id', 'run_id'], unique=False)

    op.create_table('signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('source_id', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('subtype', sa.String(length=100), nullable=True),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('x', sa.Float(), nullable=True),
    sa.Column('y', sa.Float(), nullable=True),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.Column('assignment', sa.String(length=12), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('row_hash', sa.String(length=40), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("assignment in ('explicit','inside','nearby','unassigned')", name=op.f('ck_signals_assignment')),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_signals_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_signals_park_id_parks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals')),
    sa.UniqueConstraint('source', 'source_id', name='uq_signals_source_id')
    )
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.create_index('ix_signals_park_date', ['park_id', 'date'], unique=False)
        batch_op.create_index('ix_signals_type_date', ['type', 'date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index('ix_signals_type_date')
        batch_op.drop_index('ix_signals_park_date')

    op.drop_table('signals')
    with op.batch_alter_table('park_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_park_scores_park')

    op.drop_table('park_scores')
    with op.batch_alter_table('rejected_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_rejected_rows_batch')

    op.drop_table('rejected_rows')
    with op.batch_alter_table('parks', schema=None) as batch_op:
        batch_op.drop_index('ix_parks_municipality')
        batch_op.drop_index('ix_parks_bbox')

    op.drop_table('parks')
    with op.batch_alter_table('import_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_import_changes_batch')

    op.drop_table('import_changes')
    op.drop_table('score_runs')
    op.drop_table('import_batches')
