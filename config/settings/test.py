"""Test run: `make test`. Uses DATABASE_URL / REDIS_URL when they are set.

Each setting here differs from config/settings/base.py and is set once; the ones the
integration tests (tests/integration) change for a real worker read the environment.
"""

from .base import *  # noqa: F401,F403
from .base import BASE_DIR, env

SECRET_KEY = "test-secret-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests that need a real service fail instead of skipping when CI sets this.
REQUIRE_SERVICES = env.bool("REQUIRE_SERVICES", default=False)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Unit tests run tasks in-process and keep mail in memory; the integration tests start
# a real worker with these set, so that tasks go through Redis and mail lands in files
# they can count.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "test-mail"))

# Throttles and lock-outs count in the cache; each test starts from an empty one
# (tests/conftest.py clears it), which must not flush the Redis the broker uses.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tests assert the English source strings, so they run in English by default; the
# Vietnamese default of the real settings is checked by tests/test_i18n.py and by the
# tests that render in a recipient's own language.
LANGUAGE_CODE = "en"

# Payments go to the local stand-in platform; the national portal sync is off except in
# the tests that turn it on against their stand-in receiver.
PAYMENT_GATEWAY = "standin"
PAYMENT_SECRET = "test-payment-secret"
NATIONAL_SYNC_ENABLED = False

# Unsigned PDFs unless a test configures a certificate (tests/procedures/test_signing.py),
# and SMS kept in memory (procedures.notifications.sms.outbox).
SIGNING_CERT_FILE = ""
SIGNING_KEY_FILE = ""
SMS_BACKEND = "procedures.notifications.sms.LocmemBackend"
