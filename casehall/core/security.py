"""Password hashing (scrypt), the password policy and bearer tokens (random, stored as sha256)."""

import functools
import hashlib
import hmac
import secrets
from typing import Any

from casehall.models.messages import N_


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(candidate.hex(), digest)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


MIN_PASSWORD_LENGTH = 10


class WeakPassword(ValueError):
    """A password refused by the policy; ``str()`` says why in English, ``msgid`` and ``params`` translate it."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid.format(**params))
        self.msgid, self.params = msgid, params


def check_password_policy(password: str, username: str) -> None:
    """The minimum policy for passwords set through casehall (creation, reset): at least 10 characters, not the
    username (nor containing it), and characters of at least two kinds among lower case, upper case, digits and
    others. Raises ``WeakPassword``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(N_("the password needs at least {minimum} characters, it has {length}"),
                           minimum=MIN_PASSWORD_LENGTH, length=len(password))
    if username and username.casefold() in password.casefold():
        raise WeakPassword(N_("the password must not be or contain the username"))
    kinds = {_kind(c) for c in password}
    if len(kinds) < 2:
        raise WeakPassword(N_("the password must mix at least two kinds of characters: lower case, upper case, "
                              "digits, others"))


def _kind(char: str) -> str:
    if char.isdigit():
        return "digit"
    if char.islower():
        return "lower"
    if char.isupper():
        return "upper"
    return "other"


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(12))


def burn_password_check(password: str) -> None:
    """Spend the time of a real check, so that an unknown username answers as slowly as a wrong password."""
    verify_password(password, _dummy_hash())
