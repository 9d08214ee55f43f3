"""A sandbox national-ID OpenID provider standing in for NIDA (dev and test only).

A real OpenID provider over real HTTP, modelled on MOSIP eSignet: code flow with PKCE S256,
`private_key_jwt`, pairwise subjects, NIDA-style levels of assurance, signed userinfo on request,
RP-initiated and back-channel logout, and demo citizens. Its state lives in memory.
"""

from portal.sandbox.idp.app import create_idp_app, idp_banner, idp_serve
from portal.sandbox.idp.citizens import Citizen, citizens_load, nin_format, nin_normalise
from portal.sandbox.idp.config import (
    CITIZENS_FILE,
    ClientRegistration,
    IdpConfig,
    IdpFaults,
    SandboxClock,
    SandboxRefusedError,
)
from portal.sandbox.idp.protocol import ACR_HIGH, ACR_LOW, ACR_SUBSTANTIAL, ACR_VALUES

__all__ = [
    "ACR_HIGH",
    "ACR_LOW",
    "ACR_SUBSTANTIAL",
    "ACR_VALUES",
    "CITIZENS_FILE",
    "Citizen",
    "ClientRegistration",
    "IdpConfig",
    "IdpFaults",
    "SandboxClock",
    "SandboxRefusedError",
    "citizens_load",
    "create_idp_app",
    "idp_banner",
    "idp_serve",
    "nin_format",
    "nin_normalise",
]
