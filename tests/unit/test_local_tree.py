from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import attrs
import pytest

from flask_s3.core import resolve_settings
from flask_s3.core.bucket_survey import missing_bucket
from flask_s3.core.manifest import Manifest, ManifestEntry
from flask_s3.core.static_assets import StaticRoot
from flask_s3.deploy import preparation
from flask_s3.deploy.options import DeployOptions, run_settings


def read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, only: str | None, **config: Any
) -> Any:
    for name in ("a.css", ".env", "b.js"):
        (tmp_path / name).write_text(name)
    calls: list[bool] = []
    real = preparation.discover_assets

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("include_hidden", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(preparation, "discover_assets", counting)
    options = DeployOptions(bucket_name="bucket", filepath_filter_regex=only)
    run = run_settings(resolve_settings(config), options)
    tree = preparation.read_local_tree(
        [StaticRoot(str(tmp_path), "/static")], run, options
    )
    return tree, calls


def test_discovery_runs_once_without_pruning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree, calls = read(tmp_path, monkeypatch, r"\.css$")
    assert calls == [False]
    assert [file.asset.key for file in tree.files] == ["static/a.css"]
    assert tree.keys == frozenset()  # only pruning asks for them


def test_pruning_knows_the_keys_of_hidden_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree, calls = read(tmp_path, monkeypatch, None, S3_PRUNE=True)
    assert calls == [False, True]
    assert [file.asset.key for file in tree.files] == ["static/a.css", "static/b.js"]
    assert tree.keys == {"static/a.css", "static/.env", "static/b.js"}


def test_hashing_shares_the_entries_of_a_survey_that_has_read_them(
    tmp_path: Path,
) -> None:
    """The survey reads the manifest while the folder is walked: hashing
    takes its entries if they are there by then, never waits for them, and
    leaves a failed survey's error to be raised where its result is taken."""
    (tmp_path / "a.css").write_text("a")
    entry = ManifestEntry("86f7e437faa5a7fce15d1ddcb9eaeaea377667b8", "d")
    survey = attrs.evolve(missing_bucket(), manifest=Manifest({"static/a.css": entry}))
    options = DeployOptions(bucket_name="bucket")
    run = run_settings(resolve_settings({}), options)
    roots = [StaticRoot(str(tmp_path), "/static")]

    done: Future[Any] = Future()
    done.set_result(survey)
    read = preparation._entries_read(done)
    tree = preparation.read_local_tree(roots, run, options, lambda: read)
    assert tree.files[0].sha1 is entry.sha1

    pending: Future[Any] = Future()
    failed: Future[Any] = Future()
    failed.set_exception(OSError("no route"))
    assert preparation._entries_read(pending) is None
    assert preparation._entries_read(failed) is None


def test_the_run_hands_hashing_what_its_survey_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    survey = attrs.evolve(
        missing_bucket(),
        manifest=Manifest({"static/a.css": ManifestEntry("0" * 40, "d")}),
    )

    class Surveyor:
        def survey(self, prefix: str) -> Any:
            return survey

    handed: list[Any] = []
    real = preparation.read_local_tree

    def reading(*args: Any) -> Any:
        handed.append(args[-1])
        return real(*args)

    monkeypatch.setattr(preparation, "read_local_tree", reading)
    options = DeployOptions(bucket_name="bucket")
    run = run_settings(resolve_settings({}), options)
    roots = [StaticRoot(str(tmp_path), "/static")]
    _, surveyed = preparation._surveyed(roots, run, options, Surveyor())
    assert surveyed is survey
    assert handed[0]() is survey.manifest.entries
