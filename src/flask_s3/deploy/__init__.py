"""The deploy service: static roots and settings in, a published bucket out.

It needs no Flask: ``create_all`` and both command lines hand it the static
roots they read from an app, and it plans (`plan`), makes the plan an
upload carries out, creating a missing bucket (`prepare`), and carries it
out (`publish`). This is the one pipeline.

Its modules are imported with the collector paused (see `collector`).
"""

from flask_s3.deploy.collector import collector_paused

with collector_paused():
    from flask_s3.deploy.options import DeployOptions
    from flask_s3.deploy.preparation import (
        Planned,
        Prepared,
        S3ClientFactory,
        plan,
        prepare,
    )
    from flask_s3.deploy.publishing import publish

__all__ = [
    "DeployOptions",
    "Planned",
    "Prepared",
    "S3ClientFactory",
    "plan",
    "prepare",
    "publish",
]
