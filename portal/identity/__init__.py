"""Who the visitor is and what they may do: roles, permissions (and, next, sign-in)."""
