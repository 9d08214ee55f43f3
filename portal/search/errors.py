"""Portal exceptions at the search boundary: no engine exception crosses it."""


class SearchError(Exception):
    """Base of every search failure the portal handles."""


class SearchUnavailable(SearchError):
    """The engine cannot be reached or does not answer; the rest of the site keeps working."""


class IndexingFailed(SearchError):
    """The engine refused or failed a write; the message carries the engine's reason."""


class SearchConfigError(SearchError):
    """A query or settings the index does not allow, such as a filter on an undeclared field."""


class IndexNotConfigured(SearchConfigError):
    """This process has not given the engine the index's settings yet; configure, then retry."""
