"""Paths on this site, for the addresses a request may ask us to send the reader back to."""

from __future__ import annotations

import re

PATH_MAX = 300
# One leading slash (never "//" or "/\", which browsers read as another host), no spaces or
# control characters. The query is never kept: it can hold what a reader typed into search.
_LOCAL_PATH = re.compile(r"^/(?![/\\])[^\s?#]*$")


def local_path(value: str) -> str:
    """`value` as a path on this site without its query or fragment; ValueError otherwise."""
    path = value.split("?", 1)[0].split("#", 1)[0]
    if len(path) > PATH_MAX or not _LOCAL_PATH.match(path) or not path.isprintable():
        raise ValueError("not a path on this site")
    return path


def local_path_or_home(value: str) -> str:
    """A path to link or redirect to: `value` when it is a path on this site, else home."""
    try:
        return local_path(value)
    except ValueError:
        return "/"
