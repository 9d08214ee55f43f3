"""Fingerprinted static files: `asset_url("css/site.css")` gives `/static/css/site.<hash>.css`.

Names carry a hash of the content, so the files are served with a year-long immutable cache and a
new deploy can never serve a stale stylesheet.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from fastapi import HTTPException
from fastapi.responses import FileResponse

IMMUTABLE = "public, max-age=31536000, immutable"


class Assets:
    def __init__(self, directory: Path, prefix: str = "/static") -> None:
        self._urls: dict[str, str] = {}
        self._files: dict[str, Path] = {}
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            logical = PurePosixPath(path.relative_to(directory).as_posix())
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            hashed = str(logical.with_name(f"{logical.stem}.{digest}{logical.suffix}"))
            self._urls[str(logical)] = f"{prefix}/{hashed}"
            self._files[hashed] = path

    def url(self, logical_name: str) -> str:
        """The fingerprinted URL of a static file; an unknown name is a programming error."""
        return self._urls[logical_name]

    def response(self, hashed_name: str) -> FileResponse:
        path = self._files.get(hashed_name)
        if path is None:
            raise HTTPException(status_code=404)
        return FileResponse(path, headers={"Cache-Control": IMMUTABLE})
