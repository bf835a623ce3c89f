"""Hashed copies: ``static/css/app.css`` -> ``static/css/app.<hash>.css``.

Under ``S3_CACHE_BUSTING = 'filename'`` each file is also stored under a name
that carries its content hash. A name that changes with the content can be
cached forever, by browsers and by CDNs that ignore query strings
(CloudFront's default cache policy does), and never needs invalidating.
"""

from __future__ import annotations

import posixpath

HASH_DIGITS = 12
"""Hex digits of the SHA-1 in the name: 48 bits, far from any collision
between versions of one file."""

IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


def hashed_name(path: str, sha1: str) -> str:
    """The hash goes before the last extension of the last segment. Quoting
    leaves dots and slashes alone, so this serves keys and quoted URLs alike."""
    stem, extension = posixpath.splitext(path)
    return f"{stem}.{sha1[:HASH_DIGITS]}{extension}"
