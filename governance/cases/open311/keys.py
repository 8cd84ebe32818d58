"""API keys of Open311 apps: random, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "o311_"
# Shown in the admin so people can tell keys apart; too short to help anyone guess one.
SHOWN_CHARACTERS = 10
# A longer value is not a key of ours; nothing that long is hashed.
MAX_KEY_LENGTH = 200


def generate_key() -> str:
    """A new key: 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def shown_prefix(key: str) -> str:
    return key[:SHOWN_CHARACTERS]
