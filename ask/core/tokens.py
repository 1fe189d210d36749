"""Secret tokens (activation keys, webhook tokens): made here, stored only as their SHA-256, and
compared in constant time, so a database leak hands out nothing that works."""
import hashlib
import hmac
import secrets


def token_new() -> str:
    """A fresh secret of 256 bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, expected_hash: str) -> bool:
    """Whether the token is the one whose hash is stored; an empty token or hash never matches."""
    return bool(token and expected_hash) and hmac.compare_digest(token_hash(token), expected_hash)
