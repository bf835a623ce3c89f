"""The Flask integration: the extension object, ``url_for`` and the CLI glue."""
