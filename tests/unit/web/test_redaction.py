"""Secrets in query strings never reach the access log."""

import logging

from portal.web.redaction import QueryRedaction, access_log_redact, redact


def test_sensitive_values_are_blanked_and_the_rest_kept() -> None:
    target = "/ingia/mwisho?code=SECRETCODE&state=SECRETSTATE&iss=http%3A%2F%2Fop&lang=sw"
    shown = redact(target)
    assert "SECRET" not in shown
    assert shown.startswith("/ingia/mwisho?code=%5Bredacted%5D&state=%5Bredacted%5D")
    assert "iss=http%3A%2F%2Fop" in shown
    assert "lang=sw" in shown
    assert redact("/tafuta") == "/tafuta"


def test_the_access_log_line_is_redacted() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/toka/mwisho?state=SECRETSTATE", "1.1", 200), None,
    )  # fmt: skip
    assert QueryRedaction().filter(record)
    assert "SECRET" not in record.getMessage()


def test_the_filter_is_installed_once() -> None:
    access_log_redact()
    access_log_redact()
    filters = logging.getLogger("uvicorn.access").filters
    assert sum(isinstance(f, QueryRedaction) for f in filters) == 1
