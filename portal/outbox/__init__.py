"""The outbox: work for other systems, written in the same transaction as the change itself.

A domain that changes something others must hear about adds a row (`services.outbox_add`)
instead of calling them. One dispatcher (`dispatcher.py`) applies the rows: each topic has a
handler, given by the domain that owns it; rows are claimed one by one, retried with a back-off
that doubles, and kept as dead letters after `services.MAX_ATTEMPTS` failures, for an operator
to read (`portal outbox list`) and retry. Knows nothing of the domains whose rows it carries.
"""
