"""Developer machine: `make run`."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# Serve static files straight from the apps while developing.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Online payment against the local stand-in platform (README "Online payment").
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="standin")
PAYMENT_SECRET = env("PAYMENT_SECRET", default="standin-shared-secret")
