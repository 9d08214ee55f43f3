"""The demo citizens (from `citizens.yaml`) and the NIN as people type it and as it is shown."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from portal.sandbox.idp.config import SandboxRefusedError

NIN_LENGTH = 20
_SEPARATORS = re.compile(r"[\s\-‐‑–—]+")
_PHONE = re.compile(r"\+255[67]\d{8}")
_PIN = re.compile(r"\d{4}")


@dataclass(frozen=True, kw_only=True)
class Citizen:
    nin: str  # 20 digits, no separators
    given_name: str
    family_name: str
    birthdate: dt.date
    region: str
    phone_number: str  # E.164
    pin: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nin_display(self) -> str:
        return nin_format(self.nin)

    @property
    def phone_masked(self) -> str:
        return phone_mask(self.phone_number)


def nin_normalise(value: str) -> str | None:
    """The 20 digits of a NIN typed with or without dashes and spaces, or None."""
    digits = _SEPARATORS.sub("", value)
    if len(digits) != NIN_LENGTH or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def nin_format(nin: str) -> str:
    """A NIN in the 8-5-5-2 groups used on screen: 19900101-12345-00001-23."""
    return f"{nin[:8]}-{nin[8:13]}-{nin[13:18]}-{nin[18:]}"


def nin_reference(nin: str, key: bytes) -> str:
    """A short keyed hash to correlate log lines about one NIN without writing the NIN."""
    return hmac.new(key, b"nin:" + nin.encode(), hashlib.sha256).hexdigest()[:10]


def phone_mask(phone: str) -> str:
    """+255700000101 → +255 ••• ••• 101: enough for a citizen to recognise their phone."""
    return f"{phone[:4]} ••• ••• {phone[-3:]}"


def _birthdate(value: object, nin: str) -> dt.date:
    try:
        birthdate = dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise SandboxRefusedError(f"demo citizen {nin_format(nin)}: bad birthdate") from error
    if birthdate.strftime("%Y%m%d") != nin[:8]:
        raise SandboxRefusedError(
            f"demo citizen {nin_format(nin)}: the NIN must begin with the date of birth"
        )
    return birthdate


def citizens_load(path: Path) -> dict[str, Citizen]:
    """The demo citizens by NIN; a malformed file stops the provider from starting."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = data.get("citizens") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SandboxRefusedError(f"{path.name}: no citizens")
    citizens: dict[str, Citizen] = {}
    for entry in entries:
        nin = nin_normalise(str(entry.get("nin", "")))
        if nin is None:
            raise SandboxRefusedError(f"{path.name}: a NIN is not 20 digits: {entry.get('nin')!r}")
        if nin in citizens:
            raise SandboxRefusedError(f"{path.name}: NIN {nin_format(nin)} appears twice")
        phone = str(entry.get("phone_number", ""))
        pin = str(entry.get("pin", ""))
        if not _PHONE.fullmatch(phone) or not _PIN.fullmatch(pin):
            raise SandboxRefusedError(f"{path.name}: {nin_format(nin)} needs a phone and a PIN")
        citizens[nin] = Citizen(
            nin=nin,
            given_name=str(entry["given_name"]),
            family_name=str(entry["family_name"]),
            birthdate=_birthdate(entry.get("birthdate"), nin),
            region=str(entry["region"]),
            phone_number=phone,
            pin=pin,
        )
    return citizens
