"""Payload encryption: a case run with the codec leaves no applicant's name, phone or ID number in the raw Temporal
history; the codec endpoint decodes for an admin only; keys rotate and archived histories are re-encrypted."""

import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from casehall.audit.archive import archive_case
from casehall.audit.checks import replay_case
from casehall.cli.keys import rotate_archive
from casehall.core.codec import (
    KEY_ID,
    CodecError,
    EncryptionCodec,
    Keyring,
    data_converter,
    is_encrypted,
    payloads_of,
    read_key_file,
    write_key_file,
)
from casehall.core.settings import Settings
from casehall.models.tables import CaseHistory
from tests.conftest import CODEC_KEYS

NAME, PHONE, ID_NUMBER = "欧阳秘密", "13912345678", "110101198807074320"
SECRETS = [s.encode() for s in (NAME, PHONE, ID_NUMBER)]
HISTORIES = Path(__file__).parent / "histories"
UI = "http://127.0.0.1:8233"


def leaks(history: WorkflowHistory) -> list[str]:
    """The personal data found anywhere in the history's raw protobuf bytes (payload data, failure messages...)."""
    raw = b"".join(event.SerializeToString() for event in history.events)
    return [s.decode() for s in SECRETS if s in raw]


@pytest.fixture(scope="module")
async def closed_case(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]]) -> str:
    clerk = tokens["clerk"]
    r = await api.post("/cases", headers=clerk, json={
        "item_code": "MKT-001", "applicant": {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER},
        "submitted_materials": ["经营者身份证明", "经营场所使用证明", "从业人员情况说明"]})
    assert r.status_code == 201, r.text
    case_no = r.json()["case_no"]
    for path, body in [("accept", None), ("complete", {"result": f"已为{NAME}办结"}),
                       ("satisfaction", {"grade": "satisfied"})]:
        r = await api.post(f"/cases/{case_no}/{path}", headers=clerk, json=body)
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"
    return str(case_no)


async def raw_history(client: Client, case_no: str) -> WorkflowHistory:
    """The history as the server stores it, read by a client without the codec."""
    plain = Client(client.service_client, namespace=client.namespace, data_converter=pydantic_data_converter)
    return await plain.get_workflow_handle(f"case-{case_no}").fetch_history()


async def test_raw_history_holds_no_personal_data(client: Client, closed_case: str) -> None:
    history = await raw_history(client, closed_case)
    assert leaks(history) == []
    payloads = list(payloads_of(history.events[0]))
    assert payloads and all(is_encrypted(p) for p in payloads)
    clear = [(e.event_type, p) for e in history.events for p in payloads_of(e) if not is_encrypted(p)]
    # in clear only what the SDK core writes for itself: local activities' timing details and patch ids, no case data
    assert all(t == EventType.EVENT_TYPE_MARKER_RECORDED and (b'"activity_type"' in p.data or
                                                              p.data.startswith(b'{"id":"'))
               for t, p in clear)
    assert {p.metadata[KEY_ID] for e in history.events for p in payloads_of(e) if is_encrypted(p)} == {b"test1"}
    # the same check finds the data in a history recorded without the codec (the check can fail)
    recorded = json.loads((HISTORIES / "v1" / "yes_path.json").read_text(encoding="utf-8"))
    old = WorkflowHistory.from_json("case-old", recorded)
    assert re.search(rb'"id_number":"\d{17}[\dX]"', b"".join(e.SerializeToString() for e in old.events))
    # with the codec the same history decodes to the applicant
    decoded = await client.get_workflow_handle(f"case-{closed_case}").fetch_history()
    first = await client.data_converter.decode(list(decoded.events[0].workflow_execution_started_event_attributes
                                                    .input.payloads))
    assert ID_NUMBER in json.dumps(first, default=str, ensure_ascii=False)


def as_json(payloads: list[Payload]) -> dict[str, object]:
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payloads

    return json.loads(json_format.MessageToJson(Payloads(payloads=payloads)))  # type: ignore[no-any-return]


async def test_codec_endpoint_decodes_for_admin_only(api: httpx.AsyncClient, tokens: dict[str, dict[str, str]],
                                                     client: Client, closed_case: str) -> None:
    history = await raw_history(client, closed_case)
    body = as_json(list(payloads_of(history.events[0])))
    headers = {"Origin": UI, "X-Namespace": "default"}

    r = await api.post("/codec/decode", json=body, headers=tokens["admin"] | headers)
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == UI
    from base64 import b64decode
    plain = b"".join(b64decode(p["data"]) for p in r.json()["payloads"])
    assert ID_NUMBER.encode() in plain and NAME.encode() in plain

    refused = await api.post("/codec/decode", json=body, headers=tokens["clerk"] | headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert refused.headers["access-control-allow-origin"] == UI  # the UI can read the refusal
    api.cookies.clear()  # the log-ins of the tokens fixture left the last one's (admin's) codec cookie
    assert (await api.post("/codec/decode", json=body, headers=headers)).status_code == 401
    bad = await api.post("/codec/decode", content=b'{"payloads": 3}', headers=tokens["admin"] | headers)
    assert bad.status_code == 422

    preflight = await api.options("/codec/decode", headers={
        "Origin": UI, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == UI
    assert preflight.headers["access-control-allow-credentials"] == "true"
    other = await api.options("/codec/decode", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers

    # encode then decode comes back to the same payload; the log-in cookie works like the bearer
    login = await api.post("/auth/login", json={"username": "admin", "password": "casehall"})
    assert login.cookies.get("casehall_codec")  # kept by the client, sent to /codec only
    original = as_json([Payload(metadata={"encoding": b"json/plain"}, data=b'{"x": 1}')])
    enc = await api.post("/codec/encode", json=original, headers=headers)
    assert enc.status_code == 200 and enc.json() != original
    dec = await api.post("/codec/decode", json=enc.json(), headers=headers)
    assert dec.json() == original


async def test_unencrypted_payloads_pass_through_and_unknown_keys_are_named(tmp_path: Path) -> None:
    codec = EncryptionCodec(Keyring.parse(CODEC_KEYS))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"x"')
    assert await codec.decode([plain]) == [plain]
    other = EncryptionCodec(Keyring.generate("elsewhere"))
    (foreign,) = await other.encode([plain])
    with pytest.raises(CodecError, match="elsewhere"):
        await codec.decode([foreign])
    tampered = Payload()
    tampered.CopyFrom((await codec.encode([plain]))[0])
    tampered.data = tampered.data[:-1] + bytes([tampered.data[-1] ^ 1])
    with pytest.raises(CodecError, match="altered"):
        await codec.decode([tampered])
    with pytest.raises(CodecError, match="32 bytes"):
        Keyring.parse("k1:c2hvcnQ=")
    with pytest.raises(CodecError, match="lacks its id"):
        Keyring.parse("c2hvcnQ=")
    assert data_converter(None) is pydantic_data_converter
    # the key file's form (comment, one key per line) and the environment's form (commas) read the same keys
    rotated = Keyring.generate().with_new_key()
    path = tmp_path / "codec.keys"
    write_key_file(path, rotated)
    assert read_key_file(path) == rotated == Keyring.parse(",".join(rotated.dumps().split()))
    assert rotated.ids == ["k2", "k1"] and oct(path.stat().st_mode & 0o777) == "0o600"


async def test_rotation_keeps_old_payloads_readable_and_reencrypts_the_archive(
    client: Client, sessions: async_sessionmaker[AsyncSession], closed_case: str, settings: Settings,
) -> None:
    assert await archive_case(client, sessions, closed_case)
    rotated = Keyring.parse(CODEC_KEYS).with_new_key()
    assert rotated.ids == ["k1", "test1"]
    # old payloads stay readable with the rotated keyring, new ones use the new key
    history = await raw_history(client, closed_case)
    new_codec = EncryptionCodec(rotated)
    decoded = await new_codec.decode(list(payloads_of(history.events[0])))
    assert any(ID_NUMBER.encode() in p.data for p in decoded)
    assert (await new_codec.encode(decoded))[0].metadata[KEY_ID] == b"k1"

    report = await rotate_archive(sessions, rotated)
    assert closed_case in report.rewritten and report.payloads > 0 and not report.refused
    async with sessions() as session:
        row = await session.get(CaseHistory, closed_case)
    assert row is not None
    archived = WorkflowHistory.from_json(row.workflow_id, row.history)
    assert {p.metadata[KEY_ID] for e in archived.events for p in payloads_of(e) if is_encrypted(p)} == {b"k1"}
    assert leaks(archived) == []
    # the re-encrypted archive still replays, decoded with the new keyring (its sha256 was updated)
    replayed = await replay_case(None, sessions, closed_case, source="archive", codec=new_codec)
    assert replayed.ok, (replayed.error, replayed.mismatches)
    # and without the new key it cannot be read: the old key alone no longer suffices
    stale = await replay_case(None, sessions, closed_case, source="archive",
                              codec=EncryptionCodec(Keyring.parse(CODEC_KEYS)))
    assert not stale.ok and "'k1'" in (stale.error or "")
    again = await rotate_archive(sessions, rotated)
    assert not again.rewritten and again.unchanged >= 1
