"""Versioned cache of the public catalogue's outputs (issue 13 item 1).

The procedure page's procedure-specific HTML and the procedure API list's serialised
pages are the same for every visitor until the catalogue changes, so they are kept in
the shared cache under a *catalogue version*: one token in the cache that every write
to a catalogue table replaces (`bump`). An entry is stored as (version, value) under a
key without the version, and read together with the current version in one round trip
(`get`); an entry written under any other version is a miss.

What bumps the version:

- post_save / post_delete of every catalogue model (Field, Unit, Procedure,
  RequiredDocument, ProcedureVersion, ProcessStep), which covers the services, the
  admin (forms and actions that save or delete rows, cascades included), the imports
  (spreadsheet, documents and the national JSON format, which all save through the
  services) and seed_catalogue;
- explicit `bump_on_commit()` calls in the few writes that bypass those signals
  (queryset.update() and bulk_create in procedures/catalogue/services.py and process.py);
- post_migrate (a data migration may rewrite the catalogue) and, in tests,
  setting_changed (department address, languages...).

A write inside a transaction bumps at once and again when it commits: a reader that
took the version bumped at once but read the rows before the commit stored the old
rows under a version that the commit replaces. Keys also carry a digest of the
templates and translations the outputs are rendered from, so a deployment that
changes them does not serve HTML of the previous one.

Entries also expire after `TIMEOUT` seconds. That bounds the only case the version
cannot cover: while Redis is down every process falls back to its own local cache
(config/cache.py), where a bump made by another process is not seen.
"""

from __future__ import annotations

import hashlib
import uuid
from functools import cache as memoize
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction

from config.cache import hit_counters

VERSION_KEY = "catalogue:version"
TIMEOUT = 300


def _new_token() -> str:
    return uuid.uuid4().hex


@memoize
def code_digest() -> str:
    """A digest of the files the cached outputs are made by (the page's template and
    view, the API's view, selector and serialisers, the model's rules, the compiled
    translations), read once per process."""
    here = Path(__file__).resolve().parent
    files = [
        *(here / name for name in ("api.py", "fees.py", "models.py", "selectors.py")),
        here / "serializers.py",
        here.parent / "templates" / "procedures" / "procedure_detail_body.html",
        here.parent / "templates" / "procedures" / "procedure_detail_due.html",
        here.parent / "portal" / "views" / "catalogue.py",
    ]
    for code, _name in settings.LANGUAGES:
        for base in settings.LOCALE_PATHS:
            files.append(Path(base) / code / "LC_MESSAGES" / "django.mo")
    digest = hashlib.sha1(usedforsecurity=False)
    for path in files:
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"-")
    return digest.hexdigest()[:12]


def key(kind: str, *parts: Any) -> str:
    return ":".join(["catalogue", kind, code_digest(), *map(str, parts)])


def get(entry_key: str) -> tuple[str, Any | None]:
    """(the current catalogue version, the value stored under it or None): one round
    trip to the cache when the version exists."""
    # hit_counters with no counter: one MGET over the process's kept Redis client
    # (cache.get_many would build a new client object for each call), with the same
    # fall-back to local memory while Redis is down.
    _counts, (version, entry) = hit_counters(cache, (), (VERSION_KEY, entry_key))
    if version is None:
        # First use, or the token was evicted: any new token makes every entry stale.
        token = _new_token()
        if not cache.add(VERSION_KEY, token, timeout=None):
            token = cache.get(VERSION_KEY) or token
        return token, None
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        return version, entry[1]
    return version, None


def put(entry_key: str, version: str, value: Any) -> None:
    cache.set(entry_key, (version, value), timeout=TIMEOUT)


def bump() -> None:
    """A new catalogue version: every entry stored so far is stale."""
    cache.set(VERSION_KEY, _new_token(), timeout=None)


def bump_on_commit(using: str | None = None) -> None:
    """Bump now (so that the writing transaction, a test for instance, sees its own
    rows) and, inside a transaction, once more when it commits: one callback per
    transaction however many rows it writes."""
    bump()
    connection = transaction.get_connection(using or DEFAULT_DB_ALIAS)
    if connection.in_atomic_block and not any(
        func is bump for _sids, func, _robust in connection.run_on_commit
    ):
        transaction.on_commit(bump, using=using, robust=True)


def catalogue_row_changed(*, using: str | None = None, **kwargs) -> None:
    bump_on_commit(using)


def connect_signals() -> None:
    from django.core.signals import setting_changed
    from django.db.models.signals import post_delete, post_migrate, post_save

    from procedures.models import (
        Field,
        Procedure,
        ProcedureVersion,
        ProcessStep,
        RequiredDocument,
        Unit,
    )

    for model in (Field, Unit, Procedure, RequiredDocument, ProcedureVersion, ProcessStep):
        name = model.__name__.lower()
        post_save.connect(
            catalogue_row_changed, sender=model, dispatch_uid=f"catalogue_cache_save_{name}"
        )
        post_delete.connect(
            catalogue_row_changed, sender=model, dispatch_uid=f"catalogue_cache_delete_{name}"
        )
    post_migrate.connect(_after_migrate, dispatch_uid="catalogue_cache_migrate")
    setting_changed.connect(_setting_changed, dispatch_uid="catalogue_cache_setting")


def _after_migrate(**kwargs) -> None:
    bump()


def _setting_changed(**kwargs) -> None:
    # override_settings in tests (department address, languages, formats...).
    code_digest.cache_clear()
    bump()
