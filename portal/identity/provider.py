"""The configured national-ID provider: our relying party built from `MLANGO_IDENTITY_*`."""

from __future__ import annotations

from urllib.parse import urlsplit

from portal.config import Settings
from portal.identity.oidc import ClientConfig, ClientKey, RelyingParty, client_key_load


def relying_party_create(settings: Settings) -> RelyingParty | None:
    """The relying party, or None when no provider is configured (sign-in is then off).
    No I/O here: discovery happens on the first sign-in."""
    identity = settings.identity
    if not identity.discovery_url:
        return None
    keys: tuple[ClientKey, ...] = ()
    if identity.client_key is not None:
        keys = (client_key_load(identity.client_key.get_secret_value()),)
    elif identity.client_key_file is not None:
        keys = (client_key_load(identity.client_key_file),)
    secret = identity.client_secret.get_secret_value() if identity.client_secret else None
    base = settings.base_url.rstrip("/")
    return RelyingParty(
        ClientConfig(
            discovery_url=identity.discovery_url,
            client_id=identity.client_id,
            redirect_uri=f"{base}/ingia/mwisho",
            post_logout_redirect_uri=f"{base}/toka/mwisho",
            client_keys=keys,
            client_secret=None if keys else secret,
        )
    )


def provider_origins(settings: Settings) -> tuple[str, ...]:
    """Where our forms may lead: signing out posts to us, then goes on to the provider."""
    url = settings.identity.discovery_url
    if not url:
        return ()
    parts = urlsplit(url)
    return (f"{parts.scheme}://{parts.netloc}",)
