"""``python -m flask_s3``: plan and upload from a shell or CI, no app code needed."""

from flask_s3.flask.cli import main

main(prog_name="python -m flask_s3")
