"""A small shop whose assets Flask-S3 serves: the app's own static folder, and a
catalog blueprint with a static folder of its own under a URL prefix."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, render_template

from flask_s3 import FlaskS3

catalog = Blueprint(
    "catalog",
    __name__,
    static_folder="catalog/static",
    template_folder="catalog/templates",
)


@catalog.route("/")
def products() -> str:
    return render_template("products.html", products=["Teapot", "Kettle", "Mug"])


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        S3_BUCKET_NAME=os.environ.get("SHOP_BUCKET", "shop-assets"),
        S3_CDN_DOMAIN=os.environ.get("SHOP_CDN_DOMAIN", ""),
        S3_ONLY_MODIFIED=True,
        S3_FILEPATH_HEADERS={r"\.(css|js)$": {"Cache-Control": "public, max-age=3600"}},
        # The pages load a web font and an integrity-pinned script from the
        # bucket: both need the bucket to let the shop's origin read them.
        S3_CORS_ORIGINS=[os.environ.get("SHOP_ORIGIN", "http://127.0.0.1:5000")],
    )
    if os.environ.get("SHOP_LONG_CACHE"):
        # Hashed copies cached for a year, old deploys pruned, and the
        # CDN told about changed plain paths.
        app.config.update(
            S3_CACHE_BUSTING="filename",
            S3_FILEPATH_HEADERS={},  # hashed copies: immutable, a year
            S3_PRUNE=True,
            S3_CLOUDFRONT_DISTRIBUTION_ID=os.environ.get("SHOP_CLOUDFRONT_ID", ""),
        )
    app.config.update(config or {})
    app.register_blueprint(catalog, url_prefix="/catalog")

    @app.route("/")
    def index() -> str:
        return render_template("index.html")

    FlaskS3(app)
    return app
