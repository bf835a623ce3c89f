from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from flask_s3.adapters import static_files
from flask_s3.core import resolve_settings
from flask_s3.core.bucket_survey import missing_bucket
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
    assert calls == [True, False]
    assert [file.asset.key for file in tree.files] == ["static/a.css", "static/b.js"]
    assert tree.keys == {"static/a.css", "static/.env", "static/b.js"}


def _surveyed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    surveyor: Any,
    hashed: list[str],
    *,
    unreadable: str | None = None,
) -> preparation.LocalTree:
    """Five files surveyed for, of which the first two are hashed while the
    survey is out; ``hashed`` gets each file's name as it is read."""
    for name in "abcde":
        (tmp_path / f"{name}.css").write_text(name)
    real = static_files.stable_digest

    def reading(path: str, *args: Any, **kwargs: Any) -> Any:
        if unreadable is not None and path.endswith(unreadable):
            raise static_files.UnreadableFile(f"cannot read {path}")
        hashed.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(static_files, "stable_digest", reading)
    monkeypatch.setattr(preparation, "AHEAD_OF_SURVEY", 2)
    options = DeployOptions(bucket_name="bucket")
    run = run_settings(resolve_settings({}), options)
    roots = [StaticRoot(str(tmp_path), "/static")]
    local, _ = preparation._surveyed(roots, run, options, surveyor)
    return local


def test_no_more_than_a_few_files_are_hashed_before_the_survey_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan takes the rest one by one against the survey's manifest, so
    that nothing is kept of a skipped file; a small site is hashed while the
    bucket's round trips are out."""
    hashed: list[str] = []
    seen: list[int] = []

    class Surveyor:
        def survey(self, prefix: str) -> Any:
            deadline = time.monotonic() + 10
            while len(hashed) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)  # time enough to hash more, were it allowed
            seen.append(len(hashed))
            return missing_bucket()

    local = _surveyed(tmp_path, monkeypatch, Surveyor(), hashed)
    assert seen == [2]
    assert [file.asset.key for file in local.files] == [
        f"static/{name}.css" for name in "abcde"
    ]


class _Refused(Exception):
    pass


class _FailingSurveyor:
    def survey(self, prefix: str) -> Any:
        raise _Refused("AccessDenied")


def test_a_local_error_is_told_before_a_failed_survey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # d.css is read after the survey's answer, as on a big site: its error is
    # still the one told, as when every file was read before the survey's.
    with pytest.raises(static_files.UnreadableFile, match=r"d\.css"):
        _surveyed(tmp_path, monkeypatch, _FailingSurveyor(), [], unreadable="d.css")


def test_a_failed_survey_leaves_no_hashing_paused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = set(threading.enumerate())
    hashed: list[str] = []
    monkeypatch.setattr(static_files, "PARALLEL_SIZE", 1)  # each in a thread
    with pytest.raises(_Refused):
        _surveyed(tmp_path, monkeypatch, _FailingSurveyor(), hashed)
    # The error's traceback holds the run's frames, the hashing among them:
    # paused, its threads would live until a collection found the cycle.
    assert "e.css" in hashed
    assert set(threading.enumerate()) - before == set()
