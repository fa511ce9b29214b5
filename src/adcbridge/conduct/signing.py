"""Signed values for the conduct app: API bearer tokens and page session cookies carry a payload and its
HMAC-SHA256 under the app's secret, so the server keeps no session table and a forged or edited value is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["sign", "unsign"]


def sign(key: bytes, payload: str) -> str:
    """``payload`` with its HMAC-SHA256, as URL-safe base64."""
    mac = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    return base64.urlsafe_b64encode(f"{payload}|{mac}".encode()).decode()


def unsign(key: bytes, value: str | None) -> str | None:
    """The payload of a value made by :func:`sign` with ``key``; None for a malformed, forged or edited one."""
    try:
        payload, mac = base64.urlsafe_b64decode((value or "").encode()).decode().rsplit("|", 1)
    except Exception:  # noqa: BLE001 - anything malformed is simply not signed
        return None
    expected = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    return payload if hmac.compare_digest(mac, expected) else None
