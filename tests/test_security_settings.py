"""Secrets and headers (issue 11 items 7 and 9): expired sessions are deleted on a beat
schedule, the production settings pass `check --deploy`, and every page carries a
Content-Security-Policy without 'unsafe-inline' scripts."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.django_db
def test_clearsessions_runs_every_night_and_deletes_expired_sessions():
    from django_celery_beat.models import PeriodicTask

    from procedures.tasks import sessions_clear

    call_command("setup_periodic_tasks")
    task = PeriodicTask.objects.get(task="procedures.sessions_clear")
    assert (task.crontab.hour, task.crontab.minute, task.crontab.day_of_week) == ("3", "15", "*")
    alive, dead = SessionStore(), SessionStore()
    alive["x"], dead["x"] = 1, 2
    alive.create()
    dead.create()
    Session.objects.filter(session_key=dead.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    sessions_clear.delay()
    assert list(Session.objects.values_list("session_key", flat=True)) == [alive.session_key]


def _production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DATABASE_URL": "sqlite:////tmp/motcua-deploy-check.sqlite3",
            "ALLOWED_HOSTS": "motcua.congthuong.example.gov.vn",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            **extra,
        }
    )
    return env


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    # The department's signing certificate is part of a deployment (README "Signing
    # results"); without it the check warns (procedures.W010).
    from procedures.management.commands.generate_signing_cert import signing_cert_generate

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    signing_cert_generate(cert_file=cert, key_file=key, passphrase="p", common_name="Test")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(
            SIGNING_CERT_FILE=str(cert), SIGNING_KEY_FILE=str(key), SIGNING_KEY_PASSPHRASE="p"
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_without_a_signing_certificate():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "procedures.W010" in result.stdout + result.stderr


def test_production_headers_come_from_the_environment():
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        text=True,
        env=_production_env(SECURE_HSTS_SECONDS="600", SECURE_SSL_REDIRECT="false"),
        capture_output=True,
        timeout=120,
    )
    assert out.stdout.split()[-4:] == ["False", "600", "True", "True"], out.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/tra-cuu/", "/admin/login/", "/doi-thoai/", "/api/docs/"])
def test_pages_carry_a_strict_content_security_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1)
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    )
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
