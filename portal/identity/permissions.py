"""The one table of what each role may do.

Every state-changing route declares the permission it needs with `require_permission`; a role
grants a set of them. Until sign-in exists every visitor has the one role "anonymous".
"""

from __future__ import annotations

ANONYMOUS = "anonymous"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    ANONYMOUS: frozenset({"feedback.send"}),
}


def permitted(*, roles: frozenset[str], permission: str) -> bool:
    """Whether any of `roles` grants `permission`."""
    return any(permission in ROLE_PERMISSIONS.get(role, frozenset()) for role in roles)


def permissions_known() -> frozenset[str]:
    """Every permission some role grants (a route may only ask for one of these)."""
    return frozenset().union(*ROLE_PERMISSIONS.values())
