"""Settings of bench_upload_memory.py: production's, with SQLite and plain static files.

Everything that shapes the handling of an upload (middleware, upload handlers and
limits, templates, DEBUG off) is production's own; only the services a laptop lacks
are replaced.
"""

import os

from config.settings.production import *  # noqa: F401,F403
from config.settings.production import STORAGES

# No collectstatic before a benchmark: serve static files without the manifest.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = os.environ["MEDIA_ROOT"]
