"""The pure core: settings, URLs and planning, with no Flask and no boto3.

A worker or a mail renderer can build the same asset URLs as the web app from
nothing but its config mapping.
"""

from flask_s3.core.settings import Settings
from flask_s3.core.settings_resolution import resolve_settings
from flask_s3.core.urls import UrlBuilder
from flask_s3.errors import SettingsError, UnsafeFilename

__all__ = [
    "Settings",
    "SettingsError",
    "UnsafeFilename",
    "UrlBuilder",
    "resolve_settings",
]
