"""Schema migrations: `upgrade(url)` brings core and every loaded service to head."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from portal.plugins import ServicePlugin

CORE_VERSIONS = Path(__file__).parent / "migrations" / "versions"


def alembic_config(url: str, plugins: dict[str, ServicePlugin], connection=None) -> Config:
    import portal.models  # noqa: F401  (register core tables for autogenerate)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    locations = [str(CORE_VERSIONS)]
    for plugin in plugins.values():
        folder = plugin.migrations_dir()
        if folder is not None:
            locations.append(str(folder / "versions"))
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, plugins: dict[str, ServicePlugin], connection=None) -> None:
    command.upgrade(alembic_config(url, plugins, connection), "heads")


def downgrade_all(url: str, plugins: dict[str, ServicePlugin], connection=None) -> None:
    command.downgrade(alembic_config(url, plugins, connection), "base")


def expected_heads(url: str, plugins: dict[str, ServicePlugin]) -> frozenset[str]:
    """The head revision of every branch (core and each loaded service) in the code."""
    from alembic.script import ScriptDirectory
    return frozenset(ScriptDirectory.from_config(alembic_config(url, plugins)).get_heads())


def current_heads(connection) -> frozenset[str]:
    """The revisions the database says it is at (empty when it was never migrated)."""
    from alembic.runtime.migration import MigrationContext
    return frozenset(MigrationContext.configure(connection).get_current_heads())
