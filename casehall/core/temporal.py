"""The one way to reach Temporal: worker, API, CLI and tests all use ``connect``."""

import logging

from temporalio.client import Client

from casehall.core.codec import Keyring, data_converter
from casehall.core.settings import Settings
from casehall.core.tracing import configure_tracing, interceptors

log = logging.getLogger(__name__)


async def connect(address: str, namespace: str = "default", keys: Settings | Keyring | str | None = None) -> Client:
    """A client that passes pydantic models across the workflow boundary, encrypted with ``keys`` (settings, a
    keyring or its text form; see ``casehall.core.codec``). Without keys payloads are stored in clear. Settings with
    ``otlp_endpoint`` turn tracing on (``casehall.core.tracing``)."""
    converter = data_converter(keys)
    if isinstance(keys, Settings):
        configure_tracing(keys)
    client = await Client.connect(address, namespace=namespace, data_converter=converter, interceptors=interceptors())
    if converter.payload_codec is None and keys is not None:  # asked with settings that hold no keys
        log.warning("no codec keys (CASEHALL_CODEC_KEYS): applicants' data is stored in clear in Temporal")
    return client

