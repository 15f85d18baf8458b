"""joint cloud: cost lines, apportionment basis, standalone estimates, configuration
history, departures

Revision ID: 0100
Revises: 0200
"""
from alembic import op
import sqlalchemy as sa


revision = '0100'
down_revision = "0200"  # after the OIDC tables
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cloud_cost_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('weight_equal', sa.Integer(), nullable=False),
    sa.Column('weight_population', sa.Integer(), nullable=False),
    sa.Column('weight_usage', sa.Integer(), nullable=False),
    sa.Column('usage_metric', sa.String(length=80), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cloud_cost_line'))
    )
    with op.batch_alter_table('cloud_cost_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cloud_cost_line_fiscal_year'), ['fiscal_year'], unique=False)

    op.create_table('cloud_basis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('city_name', sa.String(length=64), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('usage', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cloud_basis')),
    sa.UniqueConstraint('fiscal_year', 'city_code', name=op.f('uq_cloud_basis_fiscal_year'))
    )
    with op.batch_alter_table('cloud_basis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cloud_basis_fiscal_year'), ['fiscal_year'], unique=False)

    op.create_table('cloud_standalone_estimate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('first_year', sa.Integer(), nullable=False),
    sa.Column('last_year', sa.Integer(), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cloud_standalone_estimate')),
    sa.UniqueConstraint('city_code', 'category', 'first_year', name=op.f('uq_cloud_standalone_estimate_city_code'))
    )

    op.create_table('city_config_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_role', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('diff', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_city_config_change_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_city_config_change'))
    )
    with op.batch_alter_table('city_config_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_city_config_change_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_city_config_change_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('cloud_departure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_code', sa.String(length=6), nullable=False),
    sa.Column('city_name', sa.String(length=64), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=False),
    sa.Column('receipt', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cloud_departure'))
    )
    with op.batch_alter_table('cloud_departure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cloud_departure_city_code'), ['city_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cloud_departure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cloud_departure_city_code'))
    op.drop_table('cloud_departure')
    with op.batch_alter_table('city_config_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_city_config_change_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_city_config_change_changed_at'))
    op.drop_table('city_config_change')
    op.drop_table('cloud_standalone_estimate')
    with op.batch_alter_table('cloud_basis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cloud_basis_fiscal_year'))
    op.drop_table('cloud_basis')
    with op.batch_alter_table('cloud_cost_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cloud_cost_line_fiscal_year'))
    op.drop_table('cloud_cost_line')
