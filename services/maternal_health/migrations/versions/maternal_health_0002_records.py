"""maternal_health: handbook records (pregnancy, prenatal and postpartum checks, birth,
child checkups, immunisations) and their amendment history

Revision ID: maternal_health_0002
Revises: maternal_health_0001
Create Date: 2026-11-28 02:41:02.298878
"""
from alembic import op
import sqlalchemy as sa

revision = 'maternal_health_0002'
down_revision = 'maternal_health_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('maternal_health_amendment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('subject_resident_id', sa.Integer(), nullable=False),
    sa.Column('field_name', sa.String(length=64), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('amended_by_id', sa.Integer(), nullable=True),
    sa.Column('amended_by_name', sa.String(length=64), nullable=False),
    sa.Column('amended_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_maternal_health_amendment_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['subject_resident_id'], ['resident.id'], name=op.f('fk_maternal_health_amendment_subject_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maternal_health_amendment'))
    )
    with op.batch_alter_table('maternal_health_amendment', schema=None) as batch_op:
        batch_op.create_index('ix_maternal_health_amendment_subject_date', ['subject_resident_id', 'amended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_amendment_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('ix_maternal_health_amendment_record', ['record_type', 'record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_amendment_subject_resident_id'), ['subject_resident_id'], unique=False)

    op.create_table('maternal_health_child_checkup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('occasion', sa.String(length=16), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('weight_kg', sa.Numeric(precision=5, scale=3, asdecimal=False), nullable=True),
    sa.Column('height_cm', sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=True),
    sa.Column('chest_cm', sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=True),
    sa.Column('head_cm', sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=True),
    sa.Column('weight_flag', sa.String(length=8), nullable=True),
    sa.Column('height_flag', sa.String(length=8), nullable=True),
    sa.Column('head_flag', sa.String(length=8), nullable=True),
    sa.Column('nutrition', sa.String(length=32), nullable=True),
    sa.Column('feeding', sa.String(length=16), nullable=True),
    sa.Column('findings', sa.String(length=16), nullable=True),
    sa.Column('decayed_teeth', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('facility', sa.String(length=100), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_name', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['resident.id'], name=op.f('fk_maternal_health_child_checkup_child_id_resident')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_maternal_health_child_checkup_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maternal_health_child_checkup'))
    )
    with op.batch_alter_table('maternal_health_child_checkup', schema=None) as batch_op:
        batch_op.create_index('ix_maternal_health_child_checkup_child_date', ['child_id', 'checked_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_child_checkup_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_child_checkup_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('maternal_health_immunisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('vaccine', sa.String(length=16), nullable=False),
    sa.Column('dose_number', sa.Integer(), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('product', sa.String(length=32), nullable=True),
    sa.Column('lot', sa.String(length=32), nullable=True),
    sa.Column('facility', sa.String(length=100), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_name', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['resident.id'], name=op.f('fk_maternal_health_immunisation_child_id_resident')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_maternal_health_immunisation_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maternal_health_immunisation'))
    )
    with op.batch_alter_table('maternal_health_immunisation', schema=None) as batch_op:
        batch_op.create_index('ix_maternal_health_immunisation_child_date', ['child_id', 'given_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_immunisation_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_immunisation_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('maternal_health_postpartum_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mother_id', sa.Integer(), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('days_after_birth', sa.Integer(), nullable=False),
    sa.Column('uterine_involution', sa.String(length=32), nullable=True),
    sa.Column('lochia', sa.String(length=32), nullable=True),
    sa.Column('breasts', sa.String(length=32), nullable=True),
    sa.Column('systolic_bp', sa.Integer(), nullable=True),
    sa.Column('diastolic_bp', sa.Integer(), nullable=True),
    sa.Column('urine_protein', sa.String(length=4), nullable=True),
    sa.Column('weight_kg', sa.Numeric(precision=5, scale=1, asdecimal=False), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_name', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mother_id'], ['resident.id'], name=op.f('fk_maternal_health_postpartum_check_mother_id_resident')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_maternal_health_postpartum_check_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maternal_health_postpartum_check'))
    )
    with op.batch_alter_table('maternal_health_postpartum_check', schema=None) as batch_op:
        batch_op.create_index('ix_maternal_health_postpartum_check_mother_date', ['mother_id', 'checked_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_postpartum_check_mother_id'), ['mother_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_postpartum_check_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('maternal_health_pregnancy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mother_id', sa.Integer(), nullable=False),
    sa.Column('notified_on', sa.Date(), nullable=False),
    sa.Column('last_menstrual_period', sa.Date(), nullable=True),
    sa.Column('expected_delivery_on', sa.Date(), nullable=True),
    sa.Column('mother_height_cm', sa.Numeric(precision=5, scale=1, asdecimal=False), nullable=True),
    sa.Column('pre_pregnancy_weight_kg', sa.Numeric(precision=5, scale=1, asdecimal=False), nullable=True),
    sa.Column('first_visit_on', sa.Date(), nullable=True),
    sa.Column('quickening_on', sa.Date(), nullable=True),
    sa.Column('blood_type_abo', sa.String(length=2), nullable=True),
    sa.Column('blood_type_rh', sa.String(length=1), nullable=True),
    sa.Column('syphilis_result', sa.String(length=16), nullable=True),
    sa.Column('syphilis_tested_on', sa.Date(), nullable=True),
    sa.Column('hbs_antigen_result', sa.String(length=16), nullable=True),
    sa.Column('hbs_antigen_tested_on', sa.Date(), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_name', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mother_id'], ['resident.id'], name=op.f('fk_maternal_health_pregnancy_mother_id_resident')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_maternal_health_pregnancy_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maternal_health_pregnancy'))
    )
    with op.batch_alter_table('maternal_health_pregnancy', schema=None) as batch_op:
        batch_op.create_index('ix_maternal_health_pregnancy_mother_date', ['mother_id', 'notified_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_pregnancy_mother_id'), ['mother_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_pregnancy_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('maternal_health_birth',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mother_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('pregnancy_id', sa.Integer(), nullable=True),
    sa.Column('born_on', sa.Date(), nullable=False),
    sa.Column('born_time', sa.String(length=5), nullable=True),
    sa.Column('gestational_weeks', sa.Integer(), nullable=False),
    sa.Column('gestational_days', sa.Integer(), nullable=False),
    sa.Column('presentation', sa.String(length=16), nullable=True),
    sa.Column('delivery_method', sa.String(length=32), nullable=True),
    sa.Column('labour_minutes', sa.Integer(), nullable=True),
    sa.Column('blood_loss_ml', sa.Integer(), nullable=True),
    sa.Column('transfusion', sa.Boolean(), nullable=False),
    sa.Column('multiplicity', sa.String(length=8), nullable=True),
    sa.Column('weight_kg', sa.Numeric(precision=5, scale=3, asdecimal=False), nullable=True),
    sa.Column('length_cm', sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=True),
    sa.Column('chest_cm', sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=True),
    sa.Column('head_cm', sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('attendant', sa.String(length=64), nullable=True),
    sa.Column('place', sa.String(length=100), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_name', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['resident.id'], name=op.f('fk_maternal_health_birth_child_id_resident')),
    sa.ForeignKeyConstraint(['mother_id'], ['resident.id'], name=op.f('fk_maternal_health_birth_mother_id_resident')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_maternal_health_birth_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['pregnancy_id'], ['maternal_health_pregnancy.id'], name=op.f('fk_maternal_health_birth_pregnancy_id_maternal_health_pregnancy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maternal_health_birth'))
    )
    with op.batch_alter_table('maternal_health_birth', schema=None) as batch_op:
        batch_op.create_index('ix_maternal_health_birth_child_date', ['child_id', 'born_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_birth_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_birth_mother_id'), ['mother_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_birth_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('maternal_health_prenatal_checkup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pregnancy_id', sa.Integer(), nullable=False),
    sa.Column('mother_id', sa.Integer(), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('gestational_weeks', sa.Integer(), nullable=False),
    sa.Column('gestational_days', sa.Integer(), nullable=False),
    sa.Column('fundal_height_cm', sa.Numeric(precision=4, scale=1, asdecimal=False), nullable=True),
    sa.Column('abdominal_girth_cm', sa.Numeric(precision=5, scale=1, asdecimal=False), nullable=True),
    sa.Column('systolic_bp', sa.Integer(), nullable=True),
    sa.Column('diastolic_bp', sa.Integer(), nullable=True),
    sa.Column('oedema', sa.String(length=4), nullable=True),
    sa.Column('urine_protein', sa.String(length=4), nullable=True),
    sa.Column('urine_glucose', sa.String(length=4), nullable=True),
    sa.Column('weight_kg', sa.Numeric(precision=5, scale=1, asdecimal=False), nullable=True),
    sa.Column('other_tests', sa.Text(), nullable=True),
    sa.Column('instructions', sa.Text(), nullable=True),
    sa.Column('facility', sa.String(length=100), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_name', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mother_id'], ['resident.id'], name=op.f('fk_maternal_health_prenatal_checkup_mother_id_resident')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_maternal_health_prenatal_checkup_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['pregnancy_id'], ['maternal_health_pregnancy.id'], name=op.f('fk_maternal_health_prenatal_checkup_pregnancy_id_maternal_health_pregnancy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maternal_health_prenatal_checkup'))
    )
    with op.batch_alter_table('maternal_health_prenatal_checkup', schema=None) as batch_op:
        batch_op.create_index('ix_maternal_health_prenatal_checkup_mother_date', ['mother_id', 'checked_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_prenatal_checkup_mother_id'), ['mother_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_prenatal_checkup_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maternal_health_prenatal_checkup_pregnancy_id'), ['pregnancy_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('maternal_health_prenatal_checkup', schema=None) as batch_op:
        batch_op.drop_index('ix_maternal_health_prenatal_checkup_mother_date')
        batch_op.drop_index(batch_op.f('ix_maternal_health_prenatal_checkup_pregnancy_id'))
        batch_op.drop_index(batch_op.f('ix_maternal_health_prenatal_checkup_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_maternal_health_prenatal_checkup_mother_id'))

    op.drop_table('maternal_health_prenatal_checkup')
    with op.batch_alter_table('maternal_health_birth', schema=None) as batch_op:
        batch_op.drop_index('ix_maternal_health_birth_child_date')
        batch_op.drop_index(batch_op.f('ix_maternal_health_birth_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_maternal_health_birth_mother_id'))
        batch_op.drop_index(batch_op.f('ix_maternal_health_birth_child_id'))

    op.drop_table('maternal_health_birth')
    with op.batch_alter_table('maternal_health_pregnancy', schema=None) as batch_op:
        batch_op.drop_index('ix_maternal_health_pregnancy_mother_date')
        batch_op.drop_index(batch_op.f('ix_maternal_health_pregnancy_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_maternal_health_pregnancy_mother_id'))

    op.drop_table('maternal_health_pregnancy')
    with op.batch_alter_table('maternal_health_postpartum_check', schema=None) as batch_op:
        batch_op.drop_index('ix_maternal_health_postpartum_check_mother_date')
        batch_op.drop_index(batch_op.f('ix_maternal_health_postpartum_check_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_maternal_health_postpartum_check_mother_id'))

    op.drop_table('maternal_health_postpartum_check')
    with op.batch_alter_table('maternal_health_immunisation', schema=None) as batch_op:
        batch_op.drop_index('ix_maternal_health_immunisation_child_date')
        batch_op.drop_index(batch_op.f('ix_maternal_health_immunisation_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_maternal_health_immunisation_child_id'))

    op.drop_table('maternal_health_immunisation')
    with op.batch_alter_table('maternal_health_child_checkup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maternal_health_child_checkup_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_maternal_health_child_checkup_child_id'))
        batch_op.drop_index('ix_maternal_health_child_checkup_child_date')

    op.drop_table('maternal_health_child_checkup')
    with op.batch_alter_table('maternal_health_amendment', schema=None) as batch_op:
        batch_op.drop_index('ix_maternal_health_amendment_subject_date')
        batch_op.drop_index(batch_op.f('ix_maternal_health_amendment_subject_resident_id'))
        batch_op.drop_index('ix_maternal_health_amendment_record')
        batch_op.drop_index(batch_op.f('ix_maternal_health_amendment_municipality_id'))

    op.drop_table('maternal_health_amendment')
