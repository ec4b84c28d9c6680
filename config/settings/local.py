"""Developer machine: `make run`."""

from .base import *  # noqa: F401,F403
from .base import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=True)
# Serve static files straight from the apps while developing.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Online payment against the local stand-in platform (README "Online payment").
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="standin")
PAYMENT_SECRET = env("PAYMENT_SECRET", default="standin-shared-secret")

# A development certificate under var/ that `make run` creates (generate_signing_cert),
# so slips and results are signed on a developer machine too.
SIGNING_CERT_FILE = env("SIGNING_CERT_FILE", default=str(BASE_DIR / "var" / "signing" / "cert.pem"))
SIGNING_KEY_FILE = env("SIGNING_KEY_FILE", default=str(BASE_DIR / "var" / "signing" / "key.pem"))
SIGNING_KEY_PASSPHRASE = env("SIGNING_KEY_PASSPHRASE", default="development")
