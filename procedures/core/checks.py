"""System checks on settings that are choices rather than law.

A typo in one of them would otherwise change a legal figure silently (an unknown
supplement policy used to fall through to "pause").
"""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError, connection

from procedures.core.constants import SupplementPolicy


@register()
def check_supplement_policy(app_configs, **kwargs) -> list[Error]:
    value = getattr(settings, "SUPPLEMENT_POLICY", None)
    if value in SupplementPolicy.values:
        return []
    return [
        Error(
            f"SUPPLEMENT_POLICY is {value!r}; it must be one of "
            f"{', '.join(repr(v) for v in SupplementPolicy.values)}.",
            hint="Set SUPPLEMENT_POLICY=restart (Decree 61/2018 art. 19(4) as amended) "
            "or SUPPLEMENT_POLICY=pause in the environment.",
            id="procedures.E001",
        )
    ]


@register()
def check_signing_certificate(app_configs, **kwargs) -> list[Warning]:
    """A configured certificate or key that does not load leaves every PDF unsigned.

    A warning, not an error: `make run` migrates before it creates the development
    certificate, and an error would stop every management command."""
    from procedures.core.signing import SigningError, signer_load, signing_configured

    if not signing_configured():
        return []
    try:
        signer_load()
    except SigningError as exc:
        return [
            Warning(
                str(exc),
                hint="Fix SIGNING_CERT_FILE, SIGNING_KEY_FILE and SIGNING_KEY_PASSPHRASE, or "
                "run `manage.py generate_signing_cert` for a development certificate.",
                id="procedures.W011",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_signing_configured(app_configs, **kwargs) -> list[Warning]:
    from procedures.core.signing import signing_configured

    if signing_configured():
        return []
    return [
        Warning(
            "No signing certificate is configured: results and slips are issued without "
            "the department's digital signature.",
            hint="Set SIGNING_CERT_FILE, SIGNING_KEY_FILE and SIGNING_KEY_PASSPHRASE "
            "(README, 'Signing results').",
            id="procedures.W010",
        )
    ]


# --------------------------------------------------------------------------- PostgreSQL

# Below this the planner misjudges how many dossiers a name search matches (README,
# "PostgreSQL settings the plans rely on"); migration 0015 sets 1000.
NAME_STATISTICS_TARGET = 1000


def _pg_settings() -> dict[str, object]:
    """The server settings the plans rely on, read from the default database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('autovacuum'), current_setting('track_counts')")
        autovacuum, track_counts = cursor.fetchone()
        cursor.execute(
            "SELECT attstattarget FROM pg_attribute "
            "WHERE attrelid = to_regclass('procedures_dossier') AND attname = 'applicant_name'"
        )
        row = cursor.fetchone()
        cursor.execute("SELECT current_setting('default_statistics_target')::int")
        default_target = cursor.fetchone()[0]
    target = row[0] if row else None
    # -1 (or NULL from PostgreSQL 17) means "the default".
    if target is None or target < 0:
        target = default_target
    return {"autovacuum": autovacuum, "track_counts": track_counts, "name_statistics": target}


@register("database", deploy=True)
def check_postgresql_settings(app_configs, **kwargs) -> list[Warning]:
    """`check --deploy` on PostgreSQL: autovacuum on (the partial indexes and the report
    rollup are planned from fresh statistics, and dead rows of the delivery ledger must
    be reclaimed) and the raised statistics target on the searched applicant name."""
    if connection.vendor != "postgresql":
        return []
    try:
        found = _pg_settings()
    except DatabaseError as exc:
        return [
            Warning(
                f"Could not read the PostgreSQL settings: {exc}",
                hint="Run `manage.py check --deploy` where the database is reachable.",
                id="procedures.W020",
            )
        ]
    warnings = []
    if found["autovacuum"] != "on" or found["track_counts"] != "on":
        warnings.append(
            Warning(
                "PostgreSQL autovacuum is off (or track_counts is): statistics go stale "
                "and dead rows pile up, so the dossier, reminder and report plans degrade.",
                hint="Set autovacuum = on and track_counts = on in postgresql.conf.",
                id="procedures.W021",
            )
        )
    if int(found["name_statistics"]) < NAME_STATISTICS_TARGET:  # type: ignore[call-overload]
        warnings.append(
            Warning(
                f"The statistics target of procedures_dossier.applicant_name is "
                f"{found['name_statistics']}, below {NAME_STATISTICS_TARGET}: name searches "
                "may be planned as a scan of every dossier.",
                hint="Run `manage.py migrate` (0015 raises it), then ANALYZE procedures_dossier.",
                id="procedures.W022",
            )
        )
    return warnings
