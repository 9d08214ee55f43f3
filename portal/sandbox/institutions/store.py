"""An institution's memory: its applications, one-time launch tokens, browser sessions and the
status pushes it still owes the portal. One lock guards it all.

Nothing here survives the process, which is enough for a sandbox. NINs stay in this memory and
are never logged; launch tokens are kept only as digests.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from portal.sandbox.institutions.config import InstitutionConfig, Words
from portal.sandbox.institutions.text import words

Status = Literal["received", "in_review", "approved", "rejected"]
# A status change's push message, without the officer's note.
_PUSH_TEXT = {
    "in_review": "push_in_review",
    "approved": "push_approved",
    "rejected": "push_rejected",
}
_REFERENCE_DIGITS = 1_000_000
MAX_ERROR_LENGTH = 100


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def utc_text(moment: dt.datetime) -> str:
    """`moment` in UTC to the second, as 2026-12-04T19:00:00Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, kw_only=True)
class OpenRequest:
    """A checked hand-off: what the portal sent to open an application."""

    api_code: str
    idempotency_key: str
    service: str
    locale: str
    purpose: str
    citizen: dict[str, str]
    return_url: str


@dataclass
class StatusPush:
    """A status change the portal must hear of, kept until the bus has taken it."""

    body: dict[str, Any]
    delivered: bool = False
    attempts: int = 0
    next_attempt: float = 0.0  # on the monotonic clock
    last_error: str | None = None

    @property
    def sequence(self) -> int:
        sequence: int = self.body["sequence"]
        return sequence


@dataclass
class Application:
    reference: str
    api_code: str
    idempotency_key: str
    service: str
    locale: str
    purpose: str
    citizen: dict[str, str]
    return_url: str
    opened_at: dt.datetime
    status: Status = "received"
    sequence: int = 1  # 1 is "received", told in the hand-off answer and never pushed
    answers: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    pushes: list[StatusPush] = field(default_factory=list)

    @property
    def pending(self) -> list[StatusPush]:
        return [push for push in self.pushes if not push.delivered]


@dataclass(frozen=True)
class _Launch:
    reference: str
    expires_at: dt.datetime


@dataclass
class BrowserSession:
    """The institution's own session of one browser, bound to one application."""

    id: str
    reference: str
    csrf_token: str
    expires_at: dt.datetime
    language: str


class IdempotencyConflict(ValueError):
    """An idempotency key already opened an application for another service or citizen."""


class InstitutionStore:
    def __init__(self, config: InstitutionConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._applications: dict[str, Application] = {}
        self._by_key: dict[str, str] = {}
        self._launches: dict[str, _Launch] = {}
        self._sessions: dict[str, BrowserSession] = {}

    # ----- applications

    def application_open(self, request: OpenRequest) -> tuple[Application, bool]:
        """The application opened under the request's idempotency key, and whether it is new.
        The same key for another service or citizen raises IdempotencyConflict."""
        with self._lock:
            reference = self._by_key.get(request.idempotency_key)
            if reference is not None:
                found = self._applications[reference]
                if found.api_code != request.api_code or found.citizen.get(
                    "nin"
                ) != request.citizen.get("nin"):
                    raise IdempotencyConflict("the idempotency key opened another application")
                return copy.deepcopy(found), False
            now = self._config.clock()
            application = Application(
                reference=self._reference_new(request.api_code, now),
                api_code=request.api_code,
                idempotency_key=request.idempotency_key,
                service=request.service,
                locale=request.locale,
                purpose=request.purpose,
                citizen=dict(request.citizen),
                return_url=request.return_url,
                opened_at=now,
            )
            self._applications[application.reference] = application
            self._by_key[request.idempotency_key] = application.reference
            return copy.deepcopy(application), True

    def _reference_new(self, api_code: str, now: dt.datetime) -> str:
        service = self._config.service(api_code)
        assert service is not None
        while True:
            number = secrets.randbelow(_REFERENCE_DIGITS)
            reference = f"{service.reference_prefix}-{now.year}-{number:06d}"
            if reference not in self._applications:
                return reference

    def application_find(self, *, api_code: str, idempotency_key: str) -> Application | None:
        """The application the key opened for this service, if any."""
        with self._lock:
            reference = self._by_key.get(idempotency_key)
            found = self._applications.get(reference) if reference else None
            if found is None or found.api_code != api_code:
                return None
            return copy.deepcopy(found)

    def application_get(self, reference: str) -> Application | None:
        with self._lock:
            found = self._applications.get(reference)
            return copy.deepcopy(found) if found else None

    def applications(self) -> list[Application]:
        """Every application, the latest opened first."""
        with self._lock:
            found = sorted(self._applications.values(), key=lambda a: a.opened_at, reverse=True)
            return copy.deepcopy(found)

    def application_submit(self, reference: str, answers: dict[str, str]) -> bool:
        """Keep the citizen's answers and put the application in review; False unless it was
        waiting for them."""
        with self._lock:
            application = self._applications.get(reference)
            if application is None or application.status != "received":
                return False
            application.answers = dict(answers)
            self._status_change(application, "in_review", note=None)
            return True

    def application_decide(self, reference: str, *, approved: bool, note: str | None) -> bool:
        """Approve or reject an application in review, with the officer's note; False unless it
        was in review."""
        with self._lock:
            application = self._applications.get(reference)
            if application is None or application.status != "in_review":
                return False
            application.note = note
            self._status_change(application, "approved" if approved else "rejected", note=note)
            return True

    def _status_change(self, application: Application, status: Status, *, note: str | None) -> None:
        application.status = status
        application.sequence += 1
        message = words(_PUSH_TEXT[status])
        if note:
            extra = words("push_note", note=note)
            message = Words(sw=f"{message.sw} {extra.sw}", en=f"{message.en} {extra.en}")
        body = {
            "reference": application.reference,
            "eventId": uuid.uuid4().hex,
            "sequence": application.sequence,
            "status": status,
            "message": {"sw": message.sw, "en": message.en},
            "at": utc_text(self._config.clock()),
        }
        application.pushes.append(StatusPush(body=body))

    # ----- status pushes owed to the portal

    def push_next(self, reference: str, *, now: float, due_only: bool) -> dict[str, Any] | None:
        """The body of the application's oldest undelivered push (when it is due, if
        `due_only`); later pushes wait behind it so that the portal hears them in order."""
        with self._lock:
            application = self._applications.get(reference)
            pending = application.pending if application else []
            if not pending or (due_only and pending[0].next_attempt > now):
                return None
            return copy.deepcopy(pending[0].body)

    def push_delivered(self, reference: str, sequence: int) -> None:
        with self._lock:
            push = self._push(reference, sequence)
            if push is not None:
                push.delivered = True
                push.last_error = None

    def push_failed(self, reference: str, sequence: int, *, error: str, now: float) -> None:
        """Count a failed attempt and set the next one: `retry_first` seconds later, doubling
        each time up to `retry_max`."""
        with self._lock:
            push = self._push(reference, sequence)
            if push is None:
                return
            push.attempts += 1
            push.last_error = error[:MAX_ERROR_LENGTH]
            delay = self._config.retry_first * 2 ** min(push.attempts - 1, 30)
            push.next_attempt = now + min(delay, self._config.retry_max)

    def push_retry_now(self, reference: str) -> None:
        """Make the application's undelivered pushes due at once."""
        with self._lock:
            application = self._applications.get(reference)
            for push in application.pending if application else []:
                push.next_attempt = 0.0

    def pushes_due(self, *, now: float) -> tuple[list[str], float | None]:
        """The applications whose oldest undelivered push is due, and when the next one that is
        not yet due will be (None when nothing waits)."""
        due: list[str] = []
        later: float | None = None
        with self._lock:
            for application in self._applications.values():
                pending = application.pending
                if not pending:
                    continue
                at = pending[0].next_attempt
                if at <= now:
                    due.append(application.reference)
                else:
                    later = at if later is None else min(later, at)
        return due, later

    def _push(self, reference: str, sequence: int) -> StatusPush | None:
        application = self._applications.get(reference)
        pushes = application.pushes if application else []
        return next((push for push in pushes if push.sequence == sequence), None)

    # ----- launch tokens

    def launch_issue(self, reference: str) -> str:
        """A fresh one-time launch token for the application; the earlier ones stop working."""
        token = secrets.token_urlsafe(32)
        now = self._config.clock()
        with self._lock:
            self._launches = {
                digest: launch
                for digest, launch in self._launches.items()
                if launch.reference != reference and launch.expires_at > now
            }
            self._launches[_digest(token)] = _Launch(
                reference=reference,
                expires_at=now + dt.timedelta(seconds=self._config.launch_ttl),
            )
        return token

    def launch_redeem(self, token: str) -> Application | None:
        """The application a valid token launches; the token is spent either way."""
        with self._lock:
            launch = self._launches.pop(_digest(token), None)
            if launch is None or launch.expires_at <= self._config.clock():
                return None
            found = self._applications.get(launch.reference)
            return copy.deepcopy(found) if found else None

    # ----- browser sessions

    def session_start(self, application: Application) -> BrowserSession:
        now = self._config.clock()
        session = BrowserSession(
            id=secrets.token_urlsafe(32),
            reference=application.reference,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=now + dt.timedelta(seconds=self._config.session_ttl),
            language=application.locale,
        )
        with self._lock:
            self._sessions = {k: s for k, s in self._sessions.items() if s.expires_at > now}
            self._sessions[session.id] = session
        return copy.copy(session)

    def session_find(
        self, session_id: str | None, reference: str, *, language: str | None = None
    ) -> BrowserSession | None:
        """The live session `session_id` if it is bound to `reference`; `language`, when given,
        becomes its language."""
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if (
                session is None
                or session.reference != reference
                or session.expires_at <= self._config.clock()
            ):
                return None
            if language is not None:
                session.language = language
            return copy.copy(session)
