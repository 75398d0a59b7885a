"""Payload encryption: what casehall hands to Temporal (applicants' names, phones, ID numbers, materials, notes) is
stored there encrypted with AES-256-GCM, as Temporal's ``samples-python/encryption`` sample does.

Keys come from ``CASEHALL_CODEC_KEYS`` (``k2:<base64>,k1:<base64>``: the first one encrypts, every one decrypts) or,
for the embedded stack, from the key file under the data directory. Each encrypted payload names its key id in its
metadata, so payloads written before a rotation stay readable while the old key is listed. Payloads without the
encrypted encoding (histories recorded before encryption was switched on) pass through untouched."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

if TYPE_CHECKING:
    from casehall.core.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
CIPHER = "encryption-cipher"
CIPHER_NAME = b"AES-256-GCM"
NONCE_BYTES = 12
KEY_FILE_NAME = "codec.keys"
_KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class CodecError(ValueError):
    """Keys that cannot be used, or a payload that cannot be decrypted; the message says which."""


@dataclasses.dataclass(frozen=True)
class Keyring:
    """Named AES-256 keys, newest first: the first one encrypts."""

    keys: tuple[tuple[str, bytes], ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise CodecError("no codec key given")
        seen: set[str] = set()
        for key_id, key in self.keys:
            if not _KEY_ID_PATTERN.match(key_id):
                raise CodecError(f"codec key id {key_id!r} must be 1-32 letters, digits, '_', '-' or '.'")
            if key_id in seen:
                raise CodecError(f"codec key id {key_id!r} is listed twice")
            if len(key) != 32:
                raise CodecError(f"codec key {key_id!r} must be 32 bytes (base64 of 32 random bytes), "
                                 f"it is {len(key)}")
            seen.add(key_id)

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    @property
    def ids(self) -> list[str]:
        return [key_id for key_id, _ in self.keys]

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """``id:base64,id:base64``; newlines count as commas and lines starting with ``#`` are comments, so a key file
        holds one key per line."""
        keys = []
        lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
        for item in ",".join(lines).split(","):
            item = item.strip()
            if not item:
                continue
            key_id, sep, encoded = item.partition(":")
            if not sep:
                raise CodecError(f"codec key {item[:8]!r}... lacks its id: write it as <id>:<base64 key>")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise CodecError(f"codec key {key_id.strip()!r} is not valid base64") from None
            keys.append((key_id.strip(), key))
        return cls(tuple(keys))

    @classmethod
    def generate(cls, key_id: str = "k1") -> Keyring:
        return cls(((key_id, secrets.token_bytes(32)),))

    def with_new_key(self) -> Keyring:
        """This keyring with a fresh key in front (named ``k<n+1>``), the old ones kept for decryption."""
        numbers = [int(m.group(1)) for m in (re.fullmatch(r"k(\d+)", k) for k in self.ids) if m]
        key_id = f"k{max(numbers, default=0) + 1}"
        while key_id in self.ids:
            key_id += "x"
        return Keyring(((key_id, secrets.token_bytes(32)), *self.keys))

    def dumps(self) -> str:
        """The ``CASEHALL_CODEC_KEYS`` form, also the key file's content (one key per line)."""
        return "\n".join(f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in self.keys) + "\n"


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def read_key_file(path: Path) -> Keyring:
    try:
        return Keyring.parse(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CodecError(f"cannot read the codec key file {path}: {err.strerror}") from None


def write_key_file(path: Path, keyring: Keyring) -> None:
    """Write the keys readable by their owner only (atomically: a crash leaves the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# casehall payload keys, newest first; keep a copy apart from the backups\n")
        out.write(keyring.dumps())
    os.replace(tmp, path)


def keyring_of(settings: Settings) -> Keyring | None:
    """The keys configured: ``CASEHALL_CODEC_KEYS``, else (embedded Temporal only) the key file; None: no encryption."""
    if settings.codec_keys is not None and settings.codec_keys.get_secret_value().strip():
        return Keyring.parse(settings.codec_keys.get_secret_value())
    path = key_file(settings.data_dir)
    if settings.embedded_temporal and path.exists():
        return read_key_file(path)
    return None


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM on each whole serialized payload; the key id travels in the metadata and is authenticated."""

    def __init__(self, keyring: Keyring) -> None:
        super().__init__()
        self.keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.keyring.current_id
        nonce = os.urandom(NONCE_BYTES)
        data = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode(), CIPHER: CIPHER_NAME},
                       data=nonce + data)

    def decrypt(self, payload: Payload) -> Payload:
        if not is_encrypted(payload):
            return payload  # written before encryption was switched on
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecError(f"a payload is encrypted with key {key_id!r}, which is not among the configured keys "
                             f"({', '.join(self.keyring.ids)}): add it back to CASEHALL_CODEC_KEYS")
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise CodecError(f"a payload encrypted with key {key_id!r} does not decrypt: wrong key or altered data"
                             ) from None
        return Payload.FromString(plain)

    def needs_rotation(self, payload: Payload) -> bool:
        """Encrypted with a key other than the current one. Payloads in clear are not ours to change: besides old
        histories, the SDK core writes some itself (local activity markers' details) and reads them raw."""
        return is_encrypted(payload) and payload.metadata.get(KEY_ID, b"").decode() != self.keyring.current_id


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding", b"") == ENCODING


def data_converter(source: Settings | Keyring | str | None) -> DataConverter:
    """The pydantic data converter with the payload codec of ``source`` (settings, keys or their text form);
    without keys, the plain converter."""
    keyring: Keyring | None
    if source is None or isinstance(source, Keyring):
        keyring = source
    elif isinstance(source, str):
        keyring = Keyring.parse(source)
    else:
        keyring = keyring_of(source)
    if keyring is None:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keyring))


# --- walking the payloads of stored protobuf messages (archived histories) ---

PayloadFn = Callable[[Payload], Payload]
_SKIPPED = {"temporal.api.common.v1.SearchAttributes", "temporal.api.common.v1.Header"}  # never through the codec


def map_payloads(message: Message, fn: PayloadFn) -> int:
    """Replace every payload inside ``message`` by ``fn(payload)`` in place, except search attributes and headers
    (the SDK does not pass those through the codec either); returns how many ``fn`` changed."""
    changed = 0
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        name = field.message_type.full_name
        if name in _SKIPPED:
            continue
        if field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            if value_field.message_type is None:
                continue
            for key in list(value.keys()):
                changed += _apply(value[key], value_field.message_type.full_name, fn)
        elif field.is_repeated:
            for item in value:
                changed += _apply(item, name, fn)
        elif name == Payload.DESCRIPTOR.full_name:
            new = fn(value)
            if new is not value and new != value:
                value.CopyFrom(new)
                changed += 1
        else:
            changed += map_payloads(value, fn)
    return changed


def _apply(item: Message, type_name: str, fn: PayloadFn) -> int:
    if type_name in _SKIPPED:
        return 0
    if type_name != Payload.DESCRIPTOR.full_name:
        return map_payloads(item, fn)
    new = fn(item)  # type: ignore[arg-type]
    if new is item or new == item:
        return 0
    item.CopyFrom(new)
    return 1


def payloads_of(message: Message) -> Iterable[Payload]:
    """Every payload ``map_payloads`` would visit, in order."""
    found: list[Payload] = []

    def keep(p: Payload) -> Payload:
        found.append(p)
        return p

    map_payloads(message, keep)
    return found



async def decode_history(history: WorkflowHistory, codec: PayloadCodec | None) -> WorkflowHistory:
    """A copy of ``history`` with its payloads decoded by ``codec`` (histories fetched raw from the server or the
    archive), so that a replayer with the plain converter reads them; unchanged without a codec."""
    if codec is None:
        encrypted = {p.metadata.get(KEY_ID, b"").decode() for e in history.events for p in payloads_of(e)
                     if is_encrypted(p)}
        if encrypted:
            raise CodecError(f"the history is encrypted (key {', '.join(sorted(encrypted))}): its payload keys are "
                             "needed to read it (CASEHALL_CODEC_KEYS or the key file)")
        return history
    events = [copy_event(event) for event in history.events]
    found = [p for event in events for p in payloads_of(event)]
    for target, plain in zip(found, await codec.decode(found), strict=True):
        if plain is not target:
            target.CopyFrom(plain)
    return WorkflowHistory(history.workflow_id, events)


def copy_event(event: HistoryEvent) -> HistoryEvent:
    fresh = HistoryEvent()
    fresh.CopyFrom(event)
    return fresh


def reencrypt_history(history: WorkflowHistory, codec: EncryptionCodec) -> tuple[WorkflowHistory, int]:
    """A copy of ``history`` whose encrypted payloads are all encrypted with the current key (payloads in clear
    stay as they are); returns it with the number of payloads rewritten."""
    events = [copy_event(event) for event in history.events]

    def rotate(payload: Payload) -> Payload:
        return codec.encrypt(codec.decrypt(payload)) if codec.needs_rotation(payload) else payload

    changed = sum(map_payloads(event, rotate) for event in events)
    return WorkflowHistory(history.workflow_id, events), changed
