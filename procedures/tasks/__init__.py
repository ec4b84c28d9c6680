"""Celery tasks of the procedures app (autodiscovered as `procedures.tasks`).

Tasks take ids, check the database first, and are safe to run twice.
"""
from .delivery import *  # noqa: F401,F403
from .maintenance import *  # noqa: F401,F403
from .reports import *  # noqa: F401,F403
