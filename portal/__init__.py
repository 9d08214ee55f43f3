"""Mlango: the one door to Tanzania's government e-services.

Domains (`catalogue`, later `search`, `identity`, `bus`, `publishing`, `curation`, `api`) each keep
models, schemas, selectors, services and routes. A domain reaches another only through that
domain's `selectors` or `services`, imported under an alias. `web` holds page machinery shared by
all domains, `site` the pages of no domain.
"""
