"""The OpenID Connect relying party, on Authlib's Django client.

Authlib does the protocol: the authorisation request with state, nonce and PKCE kept
in the session, the code exchange at the token endpoint, and the ID token's
signature checked against the provider's JWKS with its issuer, audience, expiry and
nonce. This module only builds the client from settings and turns each way a
sign-in can fail into one translated sentence for the applicant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests

# Authlib ships no type information (and typeshed's stub lags its releases).
from authlib.integrations.base_client import (  # type: ignore[import-untyped]
    MismatchingStateError,
    OAuthError,
)
from authlib.integrations.django_client import DjangoOAuth2App  # type: ignore[import-untyped]
from authlib.integrations.django_client.integration import (  # type: ignore[import-untyped]
    DjangoIntegration,
)
from django.conf import settings
from django.utils.translation import gettext as _
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

logger = logging.getLogger(__name__)

CLIENT_NAME = "applicant"


def oidc_enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID and settings.OIDC_CLIENT_SECRET)


def oidc_client() -> DjangoOAuth2App:
    """A client for one request: cheap to build, and a change of settings (or a test's
    override) takes effect at once. Discovery and JWKS are fetched once per sign-in."""
    issuer = settings.OIDC_ISSUER.rstrip("/")
    explicit = {
        "authorize_url": settings.OIDC_AUTHORIZATION_ENDPOINT,
        "access_token_url": settings.OIDC_TOKEN_ENDPOINT,
        "jwks_uri": settings.OIDC_JWKS_URI,
    }
    kwargs: dict = {}
    if all(explicit.values()):
        kwargs.update(explicit)
        kwargs["issuer"] = settings.OIDC_ISSUER
        if settings.OIDC_USERINFO_ENDPOINT:
            kwargs["userinfo_endpoint"] = settings.OIDC_USERINFO_ENDPOINT
    else:
        kwargs["server_metadata_url"] = (
            settings.OIDC_DISCOVERY_URL or f"{issuer}/.well-known/openid-configuration"
        )
    return DjangoOAuth2App(
        DjangoIntegration(CLIENT_NAME),
        name=CLIENT_NAME,
        client_id=settings.OIDC_CLIENT_ID,
        client_secret=settings.OIDC_CLIENT_SECRET,
        client_kwargs={
            "scope": settings.OIDC_SCOPES,
            "code_challenge_method": "S256",
            "default_timeout": settings.OIDC_TIMEOUT_SECONDS,
        },
        **kwargs,
    )


class SignInError(Exception):
    """A sign-in refused; `message` is for the applicant, in their language."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    claims: dict


def oidc_finish(request) -> Identity:
    """The callback: exchange the code and verify the ID token, or raise SignInError."""
    client = oidc_client()
    # The issuer is checked against the configured one even when the discovery
    # document names another: a provider that answers for someone else is refused.
    options = {"iss": {"essential": True, "values": [settings.OIDC_ISSUER]}}
    try:
        token = client.authorize_access_token(request, claims_options=options)
        claims = token.get("userinfo")
        if not claims:
            # No ID token, or no nonce in this session: nothing proves who signed in.
            raise SignInError(
                _("The identity provider sent no verifiable identity token. Sign in again."),
                code="no_id_token",
            )
        claims = dict(claims)
        metadata = client.load_server_metadata()
        if metadata.get("userinfo_endpoint"):
            extra = dict(client.userinfo(token=token))
            if extra.get("sub") != claims.get("sub"):
                raise SignInError(
                    _("The identity provider described another person. You were not signed in."),
                    code="userinfo_subject",
                )
            claims = {**extra, **claims}
    except MismatchingStateError as exc:
        raise SignInError(
            _(
                "This sign-in was started in another window or has expired (its state does "
                "not match). Start it again."
            ),
            code="state",
        ) from exc
    except OAuthError as exc:
        logger.info("OIDC sign-in refused by the provider: %s", exc.error)
        raise SignInError(
            _("The identity provider did not sign you in (%(reason)s).")
            % {"reason": exc.error or _("no reason given")},
            code="provider",
        ) from exc
    except BadSignatureError as exc:
        raise SignInError(
            _(
                "The identity token's signature is not valid: it was not issued by the "
                "identity provider or was altered. You were not signed in."
            ),
            code="signature",
        ) from exc
    except ExpiredTokenError as exc:
        raise SignInError(
            _("The identity token has expired. Sign in again."), code="expired"
        ) from exc
    except ClaimError as exc:
        if exc.claim == "iss":
            message = _("The identity token comes from an unknown issuer. You were not signed in.")
        elif exc.claim == "nonce":
            message = _(
                "The identity token was not issued for this sign-in (its nonce does not "
                "match). Start it again."
            )
        else:
            message = _(
                "The identity token is not valid (claim “%(claim)s”). You were not signed in."
            ) % {"claim": exc.claim}
        raise SignInError(message, code=f"claim_{exc.claim}") from exc
    except JoseError as exc:
        raise SignInError(
            _("The identity token could not be read. You were not signed in."), code="token"
        ) from exc
    except requests.RequestException as exc:
        logger.warning("OIDC provider unreachable: %s", exc)
        raise SignInError(
            _("The identity provider could not be reached. Try again in a few minutes."),
            code="unreachable",
        ) from exc
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SignInError(
            _("The identity token is not valid (claim “%(claim)s”). You were not signed in.")
            % {"claim": "sub"},
            code="claim_sub",
        )
    return Identity(issuer=settings.OIDC_ISSUER, subject=subject, claims=claims)
