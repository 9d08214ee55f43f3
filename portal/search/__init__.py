"""Search: a projection of the published catalogue into a search engine.

`SearchBackend` (backend.py) is the only interface the rest of the portal sees. Two backends:
Meilisearch in production (meili.py) and an embedded SQLite FTS5 engine by default
(embedded.py), which follows Meilisearch's matching rules through semantics.py. May import
catalogue selectors; the catalogue never imports search, it writes outbox rows instead.
"""
