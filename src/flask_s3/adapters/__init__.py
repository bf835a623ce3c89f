"""Thin shells around the outside world: the filesystem and boto3."""
