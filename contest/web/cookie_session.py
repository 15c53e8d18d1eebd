"""Flask's signed cookie session (admin logins), with one signer per app instead of one per request."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface

# The participant API authenticates with bearer tokens and never reads or writes the cookie.
API_PREFIX = "/api/"


class CookieSessions(SecureCookieSessionInterface):
    """Flask opens the cookie session for every request. The participant API never uses it, so its
    requests get the null session at once (parsing the cookie was 3 % of a server's time with the
    answer call alone). The admin pages' session is as before, with one signer per app: Flask
    builds it anew for every request, but the secret key is fixed once the app runs."""

    def open_session(self, app: Flask, request: Request):
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)  # nothing is saved for a null session
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask):
        signer = app.extensions.get("jd.cookie_signer")
        if signer is None:
            signer = super().get_signing_serializer(app)  # None without a secret key: no session
            if signer is not None:
                app.extensions["jd.cookie_signer"] = signer
        return signer
