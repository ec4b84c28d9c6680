"""`check --deploy` warns when PostgreSQL lacks the settings the plans rely on
(procedures/core/checks.py; README "PostgreSQL settings the plans rely on")."""

import pytest
from django.core.checks import run_checks
from django.db import connection

from procedures.core import checks

pytestmark = pytest.mark.django_db


def _ids(**kwargs):
    return sorted(w.id for w in checks.check_postgresql_settings(None, **kwargs))


def _server(name):
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def test_reads_the_server_and_the_migrated_target(require_postgres):
    read = checks._pg_settings()
    assert read["autovacuum"] == _server("autovacuum")
    assert read["track_counts"] == _server("track_counts")
    # Migration 0015 raised the name's target.
    assert read["name_statistics"] == checks.NAME_STATISTICS_TARGET
    expected = [] if read["autovacuum"] == read["track_counts"] == "on" else ["procedures.W021"]
    assert _ids() == expected


def test_warns_when_autovacuum_is_off(require_postgres, monkeypatch):
    read = checks._pg_settings()
    monkeypatch.setattr(checks, "_pg_settings", lambda: {**read, "autovacuum": "off"})
    assert _ids() == ["procedures.W021"]
    monkeypatch.setattr(checks, "_pg_settings", lambda: {**read, "autovacuum": "on"})
    assert _ids() == []


def test_warns_when_the_name_statistics_are_the_default(require_postgres, monkeypatch):
    real = checks._pg_settings
    monkeypatch.setattr(checks, "_pg_settings", lambda: {**real(), "autovacuum": "on"})
    assert _ids() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE procedures_dossier ALTER COLUMN applicant_name SET STATISTICS -1"
        )
    assert _ids() == ["procedures.W022"]


def test_runs_with_the_deploy_checks_only(require_postgres, monkeypatch):
    read = checks._pg_settings()
    monkeypatch.setattr(checks, "_pg_settings", lambda: {**read, "autovacuum": "off"})
    assert "procedures.W021" in {w.id for w in run_checks(include_deployment_checks=True)}
    assert "procedures.W021" not in {w.id for w in run_checks()}


def test_nothing_to_check_on_sqlite():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    assert _ids() == []
