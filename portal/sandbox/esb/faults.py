"""Test hooks of the sandbox bus: fault switches, set in memory, and the log of its deliveries."""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from portal.sandbox.esb.tokens import TokenStore

MAX_PROVIDER_DELAY = 600.0
DELIVERY_LOG_SIZE = 1000

DeliveryKind = Literal["request", "nida", "push", "callback"]
# success: verified answer with success true; failed: verified answer with success false (or the
# provider_failing switch); timeout, unreachable; bad_reply: an answer that did not verify.
Outcome = Literal["success", "failed", "timeout", "unreachable", "bad_reply"]


@dataclass(frozen=True, kw_only=True)
class FaultSwitches:
    """What the bus spoils on purpose; all off by default.

    `bad_signature`: everything the bus signs is signed with a throwaway key. `provider_delay`:
    seconds waited before each delivery, counted in the provider timeout. `provider_failing`:
    deliveries are not made and count as failed answers. `server_error`: engine calls get this
    5xx status and no envelope.
    """

    bad_signature: bool = False
    provider_delay: float = 0.0
    provider_failing: bool = False
    server_error: int | None = None

    def __post_init__(self) -> None:
        for name in ("bad_signature", "provider_failing"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false")
        delay = self.provider_delay
        if (
            isinstance(delay, bool)
            or not isinstance(delay, int | float)
            or not 0 <= delay <= MAX_PROVIDER_DELAY
        ):
            raise ValueError(f"provider_delay must be a number of seconds, 0-{MAX_PROVIDER_DELAY}")
        error = self.server_error
        if error is not None and (
            isinstance(error, bool) or not isinstance(error, int) or not 500 <= error <= 599
        ):
            raise ValueError("server_error must be a 5xx status, or null")


class EsbFaults:
    """The fault switches of a running bus (`app.state.faults`), safe to set from any thread."""

    def __init__(self, tokens: TokenStore) -> None:
        self._tokens = tokens
        self._switches = FaultSwitches()
        self._lock = threading.Lock()

    @property
    def switches(self) -> FaultSwitches:
        with self._lock:
            return self._switches

    def set(self, **values: Any) -> FaultSwitches:
        """Turn the named switches to these values, leave the others (ValueError, TypeError for
        a bad name or value)."""
        with self._lock:
            self._switches = dataclasses.replace(self._switches, **values)
            return self._switches

    def reset(self) -> None:
        """Every switch off."""
        with self._lock:
            self._switches = FaultSwitches()

    def tokens_expire(self) -> None:
        """Every token issued so far expires now."""
        self._tokens.expire_all()

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self.switches)


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery the bus made (or was told to skip). Never a body."""

    kind: DeliveryKind
    code: str
    request_id: str
    target: str  # the client_id of the provider, subscriber or (callback) consumer
    outcome: Outcome


class DeliveryLog:
    """The last deliveries, oldest first (`app.state.deliveries`)."""

    def __init__(self) -> None:
        self._records: deque[DeliveryRecord] = deque(maxlen=DELIVERY_LOG_SIZE)
        self._lock = threading.Lock()

    def record(self, entry: DeliveryRecord) -> None:
        with self._lock:
            self._records.append(entry)

    def entries(self) -> list[DeliveryRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
