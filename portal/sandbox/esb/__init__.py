"""A sandbox GovESB standing in for e-GA's bus (dev and test only).

The token endpoint and the engine (/request, /nida-request, /push-request, /async) over real
HTTP, with signed deliveries to registered provider and subscriber URLs, fault switches and a
delivery log for tests. Its state lives in memory.
"""

from portal.sandbox.esb.app import create_esb_app, esb_banner, esb_serve
from portal.sandbox.esb.config import ApiCode, EsbClient, EsbConfig, PushCode
from portal.sandbox.esb.engine import AsyncResult, Engine
from portal.sandbox.esb.faults import DeliveryLog, DeliveryRecord, EsbFaults, FaultSwitches
from portal.sandbox.idp.config import SandboxClock, SandboxRefusedError

__all__ = [
    "ApiCode",
    "AsyncResult",
    "DeliveryLog",
    "DeliveryRecord",
    "Engine",
    "EsbClient",
    "EsbConfig",
    "EsbFaults",
    "FaultSwitches",
    "PushCode",
    "SandboxClock",
    "SandboxRefusedError",
    "create_esb_app",
    "esb_banner",
    "esb_serve",
]
