"""`madoguchi registry import|generate`, run through click against the test database.

The CLI commits for real (it opens its own app from MADOGUCHI_* variables), so these tests
use a municipality of their own and delete its rows afterwards."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from csvrows import GOOD_ROWS, replace, to_csv
from portal.cli import Context
from portal.db import Database
from portal.registry.cli import registry
from portal.registry.models import (GuardianLink, Household, Resident, SealRegistration,
                                    TaxRecord)
from portal.tenancy.models import Municipality
from portal.tenancy.services import add_municipality

CODE = "392103"  # 香美市: used by no other test


@pytest.fixture
def committed_city(migrated_url):
    database = Database(migrated_url)
    with database.transaction() as s:
        city = add_municipality(s, CODE, "香美市")
    yield city
    with database.transaction(city.id) as s:
        for model in (TaxRecord, SealRegistration, GuardianLink, Resident, Household):
            s.execute(delete(model.__table__).where(model.municipality_id == city.id))
        s.execute(delete(Municipality.__table__).where(Municipality.id == city.id))
    database.engine.dispose()


@pytest.fixture
def run(migrated_url):
    """Invoke `registry …` as the command line would, with a development configuration."""
    contexts = []

    def invoke(*args):
        context = Context()
        contexts.append(context)
        runner = CliRunner(env={"MADOGUCHI_ENV": "development",
                                "MADOGUCHI_DATABASE_URL": migrated_url})
        return runner.invoke(registry, list(args), obj=context, catch_exceptions=False)
    yield invoke
    for context in contexts:
        if context._app is not None:
            context.db.engine.dispose()


def test_import_reports_counts(run, committed_city, counts, tmp_path):
    path = tmp_path / "residents.csv"
    path.write_bytes(to_csv(GOOD_ROWS, encoding="cp932"))

    result = run("import", str(path), "--municipality", CODE)

    assert result.exit_code == 0, result.output
    assert "住民 4人" in result.stdout and "cp932" in result.stdout
    assert counts(committed_city) == {"household": 2, "resident": 4, "guardian_link": 2,
                                      "seal_registration": 1, "tax_record": 3}


def test_import_with_errors_lists_them_and_writes_nothing(run, committed_city, counts, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(to_csv(replace(GOOD_ROWS, 3, "birth_date", "2024-13-01")))

    result = run("import", str(path), "--municipality", CODE)

    assert result.exit_code == 1
    assert "3行目「birth_date」: 日付の形式が正しくありません (2024-13-01)" in result.stderr
    assert "何も登録していません" in result.stderr
    assert counts(committed_city)["resident"] == 0


def test_import_with_forced_encoding(run, committed_city, tmp_path):
    path = tmp_path / "residents.csv"
    path.write_bytes(to_csv(GOOD_ROWS, encoding="cp932"))
    result = run("import", str(path), "--municipality", CODE, "--encoding", "utf-8")
    assert result.exit_code == 1 and "文字コード" in result.stderr


def test_unknown_municipality(run, tmp_path):
    path = tmp_path / "residents.csv"
    path.write_bytes(to_csv(GOOD_ROWS))
    result = run("import", str(path), "--municipality", "999999")
    assert result.exit_code == 1 and "登録されていません" in result.stderr


def test_generate_writes_synthetic_residents(run, committed_city, counts):
    result = run("generate", "--municipality", CODE, "--residents", "250", "--seed", "4")
    assert result.exit_code == 0, result.output
    assert "250人" in result.stdout
    assert counts(committed_city)["resident"] == 250

    again = run("generate", "--municipality", CODE, "--residents", "10", "--seed", "4")
    assert again.exit_code == 1 and counts(committed_city)["resident"] == 250
