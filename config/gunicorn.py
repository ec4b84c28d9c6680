"""Gunicorn settings of the production web service: `gunicorn -c config/gunicorn.py`.

https://docs.gunicorn.org/en/stable/settings.html. Each value can be changed from the
environment without editing this file.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: the portal's requests are short and database-bound; two per core.
workers = _int("WEB_CONCURRENCY", 4)
# Recycle each worker after this many requests (± the jitter, so that they do not all
# restart at once): whatever a long-lived Python process keeps (a fragmented heap after
# large uploads, caches, a leak in a library) is handed back to the system.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# A request still running after this many seconds has its worker killed and replaced
# (a 50 MB upload over a slow line is received by the proxy, not by the worker).
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Request line and headers: gunicorn's defaults, named so that they are seen.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# Heartbeat files in memory, not on a disk that may stall (gunicorn FAQ).
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# The client address comes from the proxy's X-Forwarded-For, read by the application
# (TRUSTED_PROXY_COUNT); gunicorn itself trusts the proxy for the scheme only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Move what the worker loaded (Django, the project's modules, its settings) out of
    the garbage collector's reach: those objects live as long as the worker, and a full
    collection otherwise walks all ~190,000 of them again and again. Measured on the
    online submission: 0.9 ms of collection per request down to 0.3 ms (issue 13).
    https://docs.python.org/3/library/gc.html#gc.freeze"""
    import gc

    gc.freeze()
    # The PDF checker process of this worker (procedures/core/pdfcheck.py), started now
    # so that the first PDF uploaded does not wait for its start-up.
    from procedures.core.pdfcheck import checker

    try:
        checker.start()
    except OSError:
        worker.log.warning("PDF checker not started: PDFs are checked in forked children")
