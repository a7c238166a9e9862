"""Named bearer keys: who is calling, found from a file of names and SHA-256 hashes (no token in clear).

The file is TOML, one table per key::

    [keys.trainer-a]
    sha256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
    requests_per_minute = 600          # optional: the grader's GRADER_KEY_REQUESTS_PER_MINUTE otherwise
    judge_tokens_per_minute = 2000000  # optional: GRADER_KEY_JUDGE_TOKENS_PER_MINUTE otherwise

`python -m grader_service keys add NAME --file keys.toml` makes a random token, prints it once and appends
its hash. Tokens are random 256-bit strings, so a plain SHA-256 is enough to keep them: nothing to guess.
`GRADER_API_KEY`, where set, is one more key, named `default`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader_service.settings import GraderSettings

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


class KeyFileError(ValueError):
    """The keys file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Key:
    name: str
    sha256: bytes
    requests_per_minute: float | None = None
    judge_tokens_per_minute: float | None = None


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _limit(path: str, name: str, table: dict[str, object], field: str, default: float | None) -> float | None:
    value = table.get(field, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise KeyFileError(f"{path}: keys.{name}.{field} must be a positive number")
    return float(value)


def load_keys(path: str, settings: GraderSettings) -> list[Key]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise KeyFileError(f"{path}: {e}") from None
    tables = data.get("keys", {})
    if not isinstance(tables, dict):
        raise KeyFileError(f"{path}: 'keys' must be a table of [keys.NAME] entries")
    out = []
    for name, table in tables.items():
        if not _NAME.match(name) or not isinstance(table, dict):
            raise KeyFileError(f"{path}: keys.{name}: a name of letters, digits, '.', '_', '-' holding a table")
        unknown = set(table) - {"sha256", "requests_per_minute", "judge_tokens_per_minute"}
        if unknown:
            raise KeyFileError(f"{path}: keys.{name}: unknown field(s) {', '.join(sorted(unknown))}")
        h = table.get("sha256")
        if not isinstance(h, str) or not _HEX.match(h.lower()):
            raise KeyFileError(f"{path}: keys.{name}.sha256 must be 64 hex digits (the SHA-256 of the token)")
        out.append(
            Key(
                name,
                bytes.fromhex(h),
                _limit(path, name, table, "requests_per_minute", settings.key_requests_per_minute),
                _limit(path, name, table, "judge_tokens_per_minute", settings.key_judge_tokens_per_minute),
            )
        )
    return out


class KeyRing:
    """Every key the grader accepts. Empty: no token is asked for (an open grader)."""

    def __init__(self, keys: list[Key]) -> None:
        names = [k.name for k in keys]
        if len(set(names)) != len(names):
            raise KeyFileError(f"key names must be unique: {names}")
        self.keys = keys

    @classmethod
    def from_settings(cls, settings: GraderSettings) -> KeyRing:
        keys = load_keys(settings.api_keys_file, settings) if settings.api_keys_file else []
        if settings.api_key is not None:
            keys.append(
                Key(
                    "default",
                    digest(settings.api_key.get_secret_value()),
                    settings.key_requests_per_minute,
                    settings.key_judge_tokens_per_minute,
                )
            )
        return cls(keys)

    @property
    def required(self) -> bool:
        return bool(self.keys)

    def identify(self, authorization: str | None) -> Key | None:
        """The key an `Authorization: Bearer <token>` header carries, compared in constant time."""
        if not authorization or authorization[:7].lower() != "bearer ":
            return None
        presented = digest(authorization[7:].strip())
        found = None
        for key in self.keys:  # every entry compared, so the time says nothing of which one matched
            if hmac.compare_digest(presented, key.sha256):
                found = key
        return found


def add_key(path: str | Path, name: str, rpm: float | None = None, tpm: float | None = None) -> str:
    """Append a new key to the file and return its token (shown once: only the hash is kept)."""
    if not _NAME.match(name):
        raise KeyFileError(f"{name!r}: a key name is 1-64 letters, digits, '.', '_' or '-'")
    path = Path(path)
    if path.exists():
        existing = tomllib.loads(path.read_text(encoding="utf-8")).get("keys", {})
        if name in existing:
            raise KeyFileError(f"{path}: a key named {name!r} exists already")
    token = "rr-" + secrets.token_urlsafe(32)
    lines = [f"\n[keys.{name}]", f'sha256 = "{digest(token).hex()}"']
    if rpm is not None:
        lines.append(f"requests_per_minute = {rpm:g}")
    if tpm is not None:
        lines.append(f"judge_tokens_per_minute = {tpm:g}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return token
