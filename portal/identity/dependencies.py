"""`CurrentRoles` and `require_permission`, for routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from portal.identity.permissions import ANONYMOUS, permissions_known, permitted


def _current_roles(request: Request) -> frozenset[str]:
    """The visitor's roles; everyone is anonymous until sign-in exists."""
    return frozenset({ANONYMOUS})


CurrentRoles = Annotated[frozenset[str], Depends(_current_roles)]


class PermissionDenied(HTTPException):
    def __init__(self, permission: str) -> None:
        super().__init__(status_code=403, detail=f"permission: {permission}")


@dataclass(frozen=True)
class PermissionCheck:
    """Refuses the request (403) unless the visitor holds `permission`."""

    permission: str

    def __call__(self, roles: CurrentRoles) -> None:
        if not permitted(roles=roles, permission=self.permission):
            raise PermissionDenied(self.permission)


def require_permission(permission: str) -> Any:
    """`dependencies=[require_permission("feedback.send")]` on a state-changing route."""
    if permission not in permissions_known():
        raise ValueError(f"no role grants the permission {permission!r}")
    return Depends(PermissionCheck(permission))
