"""The configured GovESB: our client built from `MLANGO_BUS_*`, and where launches may lead."""

from __future__ import annotations

from portal.bus.govesb.client import ClientConfig, GovesbClient
from portal.bus.govesb.keys import private_key_load, public_key_load
from portal.config import Settings


def bus_client_create(settings: Settings) -> GovesbClient | None:
    """The client, or None when no bus is configured (services cannot be started then).
    No I/O here beyond reading a key file: the token is fetched on the first call."""
    bus = settings.bus
    if not bus.url:
        return None
    if bus.private_key is not None:
        key_text = bus.private_key.get_secret_value()
    else:
        assert bus.private_key_file is not None  # the settings check one of them is set
        key_text = bus.private_key_file.read_text(encoding="utf-8")
    assert bus.client_secret is not None
    assert bus.esb_public_key is not None
    return GovesbClient(
        ClientConfig(
            base_url=bus.url,
            client_id=bus.client_id,
            client_secret=bus.client_secret.get_secret_value(),
            private_key=private_key_load(key_text),
            esb_public_key=public_key_load(bus.esb_public_key),
            timeout=bus.timeout,
            bearer=not bus.bare_token,
            async_path=bus.async_path,
        )
    )
