"""The expiry sweep releases abandoned requests of every city."""
from __future__ import annotations

from click.testing import CliRunner

from portal.cli import cli, main  # noqa: F401  (main registers the groups)


def test_expire_command_is_registered_and_runs(committed_database_url, monkeypatch, tmp_path):
    import portal.cli as portal_cli
    portal_cli._register_groups()
    portal_cli._register_plugin_groups()
    runner = CliRunner(env={"MADOGUCHI_ENV": "development",
                            "MADOGUCHI_DATABASE_URL": committed_database_url})
    result = runner.invoke(cli, ["convenience_issuance", "expire"])
    assert result.exit_code == 0, result.output
    assert "released: 0" in result.output
