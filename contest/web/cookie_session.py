"""Flask's signed cookie session (admin logins), with one signer per app instead of one per request."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    """Flask builds the cookie signer anew for every request, the participant API's too, which
    never reads the cookie: 1 % of a server's time at the city replay's lunch peak. The secret key
    is fixed once the app runs, so one signer serves every request."""

    def get_signing_serializer(self, app: Flask):
        signer = app.extensions.get("jd.cookie_signer")
        if signer is None:
            signer = super().get_signing_serializer(app)  # None without a secret key: no session
            if signer is not None:
                app.extensions["jd.cookie_signer"] = signer
        return signer
