"""Migrations build the same schema the models describe, and come back down cleanly."""
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from portal.db import Base, make_engine
from portal.migrate import alembic_config, downgrade_all, upgrade
from portal.plugins import load_plugins


def test_every_branch_has_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://", load_plugins()))
    labels = set()
    for head in script.get_revisions(script.get_heads()):
        labels |= set(head.branch_labels) if head.branch_labels else set()
        labels |= {l for rev in script.iterate_revisions(head.revision, "base")
                   for l in (rev.branch_labels or ())}
    assert {"core", "maternal_health", "medication", "convenience_issuance"} <= labels


def test_migrated_schema_matches_the_models(migrated_url):
    engine = make_engine(migrated_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path}/m.sqlite"
    plugins = load_plugins()
    upgrade(url, plugins)
    downgrade_all(url, plugins)
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url, plugins)
    engine = make_engine(url)
    assert "resident" in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/w.sqlite")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
