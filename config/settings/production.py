"""Production: gunicorn behind a reverse proxy (HTTPS), PostgreSQL, Redis.

`DJANGO_SETTINGS_MODULE=config.settings.production manage.py check --deploy` is clean
with the environment of the README's deployment section (tests/test_deploy_check.py).
"""

from .base import *  # noqa: F401,F403
from .base import database_options, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
DATABASES = {"default": database_options(env.db("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# The proxy terminates TLS and says so in X-Forwarded-Proto (it must overwrite a value
# sent by the client). https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# HSTS: one year by default; 0 turns it off (e.g. while trying HTTPS out the first time).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
