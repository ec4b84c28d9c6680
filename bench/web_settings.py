"""Settings of bench_web.py: production's, on the bench database, served over plain HTTP.

Everything that shapes a request (middleware, sessions, cache, templates, DEBUG off,
gunicorn's config) is production's own. What differs: no HTTPS redirect (the load
generator speaks plain HTTP on 127.0.0.1), static files without the collectstatic
manifest, the benchmark's own URL conf (the project's URLs plus three baseline views
under /bench/, never part of config.urls), and rate limits raised so that one client
address can send thousands of requests: the limiter still counts every request, which
is the cost being measured, it only never says no.
"""

import os

from config.settings.production import *  # noqa: F401,F403
from config.settings.production import PORTAL_RATE_LIMITS, STORAGES

ROOT_URLCONF = "web_urls"
SECURE_SSL_REDIRECT = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = os.environ["MEDIA_ROOT"]
_HIGH = "1000000/h"
PORTAL_RATE_LIMITS = {
    name: {kind: _HIGH for kind in limits} for name, limits in PORTAL_RATE_LIMITS.items()
}
DOSSIER_LOOKUP_RATE = "1000000/min"
