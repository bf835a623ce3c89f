"""Render the shop's pages and list the asset URLs Flask-S3 put in them."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app import create_app  # noqa: E402

_ASSET = re.compile(r'(?:href|src)="([^"]+)"')


def main() -> None:
    client = create_app().test_client()
    for page in ("/", "/catalog/"):
        html = client.get(page).get_data(as_text=True)
        print(f"{page}:")
        for url in _ASSET.findall(html):
            print(f"  {url}")


if __name__ == "__main__":
    main()
