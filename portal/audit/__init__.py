"""The audit log: every change of a record, review decision and role grant, append-only."""
