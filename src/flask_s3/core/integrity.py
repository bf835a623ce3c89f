"""Subresource Integrity values: what a page puts in ``integrity=""`` so the
browser runs an asset only if the bucket or CDN serves the exact bytes this
release holds.

SHA-384 is what browsers and the SRI specification's examples use; the hash
is of the decoded body, so a gzip-encoded object carries the same value as its
local file.
"""

from __future__ import annotations

import base64

ALGORITHM = "sha384"


def integrity_value(hex_digest: str) -> str:
    """``sha384-<base64>`` from the hex digest the file hashing gives."""
    return f"{ALGORITHM}-{base64.b64encode(bytes.fromhex(hex_digest)).decode()}"
