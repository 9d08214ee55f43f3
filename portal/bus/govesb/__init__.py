"""The GovESB wire protocol (specs/govesb.md): keys, signed JSON envelopes, the opt-in
end-to-end encryption of §10, and a client for the token and engine endpoints.

Pure library: no database, no routes. JSON only; the XML form is not supported.
"""

from portal.bus.govesb.client import BusError, ClientConfig, GovesbClient
from portal.bus.govesb.encryption import DecryptionFailed, decrypt, encrypt
from portal.bus.govesb.envelope import (
    MAX_ENVELOPE_BYTES,
    Delivery,
    EnvelopeRejected,
    Reply,
    async_response_data,
    compact,
    delivery_data,
    delivery_open,
    envelope,
    envelope_open,
    esb_response_data,
    nida_request_data,
    push_data,
    reply_open,
    request_data,
    response,
    sign,
    signature_valid,
)
from portal.bus.govesb.keys import (
    KeyInvalid,
    PrivateKey,
    PublicKey,
    curve_name,
    private_key_generate,
    private_key_load,
    private_key_text,
    public_key_load,
    public_key_text,
)

__all__ = [
    "MAX_ENVELOPE_BYTES",
    "BusError",
    "ClientConfig",
    "DecryptionFailed",
    "Delivery",
    "EnvelopeRejected",
    "GovesbClient",
    "KeyInvalid",
    "PrivateKey",
    "PublicKey",
    "Reply",
    "async_response_data",
    "compact",
    "curve_name",
    "decrypt",
    "delivery_data",
    "delivery_open",
    "encrypt",
    "envelope",
    "envelope_open",
    "esb_response_data",
    "nida_request_data",
    "private_key_generate",
    "private_key_load",
    "private_key_text",
    "public_key_load",
    "public_key_text",
    "push_data",
    "reply_open",
    "request_data",
    "response",
    "sign",
    "signature_valid",
]
