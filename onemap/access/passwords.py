"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MIN_LENGTH = 10


class WeakPassword(ValueError):
    """A password too short or too simple to accept."""


def check_strength(password: str) -> None:
    """Refuse passwords under 10 characters or of a single kind of character."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    kinds = sum([any(c.isdigit() for c in password), any(c.isalpha() for c in password),
                 any(not c.isalnum() for c in password)])
    if kinds < 2:
        raise WeakPassword("a password needs letters and digits (or other characters)")


def hash_password(password: str) -> str:
    """An argon2id hash of a password that passes check_strength."""
    check_strength(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when the password matches; never raises for a wrong or malformed hash."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A real hash of nothing anyone knows: checking it costs what a real check costs, so an
    unknown username cannot be told from a wrong password by timing."""
    import secrets

    return _HASHER.hash(secrets.token_hex(16))
