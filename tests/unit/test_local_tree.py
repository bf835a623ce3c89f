from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flask_s3.core import resolve_settings
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
