"""The one table of what each role may do.

Every state-changing route declares the permission it needs with `require_permission`, or that
it is a public machine endpoint with `public_endpoint` (it proves its caller by signature); a
role grants a set of permissions. A visitor who has not signed in is "anonymous"; a person who
has is a "citizen", plus the roles granted to their NIN (`portal admin grant`).
"""

from __future__ import annotations

ANONYMOUS = "anonymous"
CITIZEN = "citizen"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    ANONYMOUS: frozenset({"feedback.send", "identity.sign_in"}),
    CITIZEN: frozenset(
        {
            "feedback.send",
            "identity.sign_in",
            "identity.sign_out",
            "account.sessions_end",
            "bus.service_start",
        }
    ),
    # Each also signs in as a citizen and holds a citizen's permissions with that role.
    # A publisher's permissions reach only the institutions they publish for (`publisher_of`).
    "publisher": frozenset({"publishing.edit"}),
    "curator": frozenset({"publishing.edit", "curation.review", "curation.edit", "audit.read"}),
    "administrator": frozenset(
        {"publishing.edit", "curation.review", "curation.edit", "audit.read"}
    ),
}
# Roles whose publishing permissions reach every institution, not only those granted.
EVERY_INSTITUTION = frozenset({"curator", "administrator"})


def permitted(*, roles: frozenset[str], permission: str) -> bool:
    """Whether any of `roles` grants `permission`."""
    return any(permission in ROLE_PERMISSIONS.get(role, frozenset()) for role in roles)


def permissions_known() -> frozenset[str]:
    """Every permission some role grants (a route may only ask for one of these)."""
    return frozenset().union(*ROLE_PERMISSIONS.values())
