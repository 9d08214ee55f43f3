"""The published catalogue: institutions, services, categories and life events.

May import `portal.db` and `portal.web`; never imports search (it will emit outbox rows instead).
"""
