"""A local OpenID Connect provider for the applicant sign-in tests.

It speaks the authorisation code flow as a real provider does (discovery, /authorize
with state, nonce and PKCE, /token with client authentication, /jwks, /userinfo) and
signs ID tokens with an RSA key generated for the test by joserfc, the JOSE library
Authlib itself uses. It runs in a thread on 127.0.0.1 with http.server. The test
consents for the person in `claims` (no log-in page), and can make it misbehave:
sign with a key it does not publish, alter a signed token, name another issuer, or
put another nonce in the token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "motcua-test"
CLIENT_SECRET = secrets.token_urlsafe(24)


class LocalProvider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"}, private=True)
        self.redirect_uris: set[str] = set()
        self.claims: dict = {}
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        # Misbehaviour switches for the refusal tests.
        self.sign_with: RSAKey | None = None
        self.tamper: dict | None = None
        self.issuer_claim: str | None = None
        self.nonce_claim: str | None = None
        self.token_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}/oidc"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LocalProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ the protocol

    def metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email", "phone"],
        }

    def authorize(self, query: dict) -> tuple[int, dict]:
        """(status, headers): a redirect back with a code, or 400 for a bad request."""
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or redirect_uri not in self.redirect_uris:
            return 400, {}  # never redirect to an address that is not registered
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            return 400, {}
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "redirect_uri": redirect_uri,
            "nonce": query.get("nonce"),
            "challenge": query["code_challenge"],
        }
        location = f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return 302, {"Location": location}

    def token(self, form: dict, authorization: str) -> tuple[int, dict]:
        self.token_requests += 1
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant["redirect_uri"] != form.get("redirect_uri")
        ):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if challenge != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = dict(self.claims)
        now = int(time.time())
        claims = {
            **self.claims,
            "iss": self.issuer_claim or self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": self.nonce_claim or grant["nonce"],
        }
        key = self.sign_with or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)
        if self.tamper:
            header, _payload, signature = id_token.split(".")
            changed = {**claims, **self.tamper}
            payload = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=")
            id_token = f"{header}.{payload.decode()}.{signature}"
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }

    def userinfo(self, authorization: str) -> tuple[int, dict]:
        claims = self.tokens.get(authorization.removeprefix("Bearer "))
        if claims is None:
            return 401, {"error": "invalid_token"}
        return 200, claims

    def _handler(provider):  # noqa: N805 - the handler class closes over the provider
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # keep the test output clean
                return

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                path = url.path.removeprefix("/oidc")
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if path == "/.well-known/openid-configuration":
                    return self._json(200, provider.metadata())
                if path == "/jwks":
                    return self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                if path == "/userinfo":
                    return self._json(*provider.userinfo(self.headers.get("Authorization", "")))
                if path == "/authorize":
                    status, headers = provider.authorize(query)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                if urlsplit(self.path).path.removeprefix("/oidc") != "/token":
                    return self._json(404, {"error": "not_found"})
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                return self._json(*provider.token(form, self.headers.get("Authorization", "")))

        return Handler
