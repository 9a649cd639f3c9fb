"""Passwords: argon2id hashes (argon2-cffi's RFC 9106 low-memory profile), and random ones for new users."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_password", "verify_password", "needs_rehash", "random_password", "check_strength", "MIN_LENGTH"]

#: Shortest password accepted (length beats composition rules; NIST SP 800-63B).
MIN_LENGTH = 12

_hasher = PasswordHasher()
#: A hash to verify against when the user does not exist, so a login takes as long either way.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def check_strength(password: str) -> None:
    """Refuse a password a person could guess quickly (``ValueError`` with the reason)."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > 1024:
        raise ValueError("a password may have at most 1024 characters")
    if len(set(password)) < 4:
        raise ValueError("a password needs more than three different characters")


def hash_password(password: str) -> str:
    """The argon2id hash to store (salted; the parameters travel inside the hash)."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (no stored hash: still spend the time, then say no)."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with weaker parameters than today's (re-hash it at the next login)."""
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def random_password() -> str:
    """A password for a new (demo) user: 20 URL-safe characters, about 120 random bits."""
    return secrets.token_urlsafe(15)
