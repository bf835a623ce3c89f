from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flask_s3.core import resolve_settings
from flask_s3.core.static_assets import StaticRoot
from flask_s3.deploy import plan, preparation, prepare
from flask_s3.deploy.collector import collector_paused
from flask_s3.deploy.options import DeployOptions


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_resumes_after_the_block_even_when_it_fails() -> None:
    seen: list[bool] = []

    def failing() -> None:
        with collector_paused():
            seen.append(gc.isenabled())
            raise RuntimeError

    gc.enable()
    with pytest.raises(RuntimeError):
        failing()
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_app_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_nested_pauses_resume_only_at_the_outermost() -> None:
    gc.enable()
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def roots(tmp_path: Path) -> list[StaticRoot]:
    (tmp_path / "a.css").write_text("a")
    return [StaticRoot(str(tmp_path), "/static")]


def test_the_deploy_service_is_imported_with_the_collector_paused() -> None:
    """In a fresh interpreter, where nothing of it is imported yet, every
    module of ours the deploy service brings in, but those that set the
    pause up, is found while the collector is off, and so are botocore,
    attrs and cattrs; and it is on again afterwards."""
    script = (
        "import gc, sys\n"
        "collecting = {}\n"
        "class Spy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        collecting.setdefault(name, gc.isenabled())\n"
        "sys.meta_path.insert(0, Spy())\n"
        "import flask_s3.deploy\n"
        "ours = [name for name in collecting if name.startswith('flask_s3')]\n"
        "print(sorted(name for name in ours if collecting[name]))\n"
        "print(sum(not on for on in collecting.values()), gc.isenabled())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    unpaused, counts = done.stdout.splitlines()
    assert unpaused == str(
        ["flask_s3", "flask_s3.deploy", "flask_s3.deploy.collector", "flask_s3.errors"]
    )
    paused, enabled = counts.split()
    assert int(paused) > 100  # botocore, attrs, cattrs and ours
    assert enabled == "True"


def test_plan_and_prepare_build_the_plan_with_the_collector_paused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = preparation.read_local_tree

    def watching(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(preparation, "read_local_tree", watching)
    gc.enable()
    settings = resolve_settings({"S3_BUCKET_NAME": "bucket"})
    planned = plan(roots(tmp_path), settings, DeployOptions(), offline=True)
    assert [item.key for item in planned.plan.items] == ["static/a.css"]
    assert seen == [False]
    assert gc.isenabled()


def test_prepare_resumes_the_collector_when_it_fails(tmp_path: Path) -> None:
    seen: list[bool] = []

    def no_client(*_: Any) -> Any:
        seen.append(gc.isenabled())
        raise RuntimeError("no client")

    gc.enable()
    settings = resolve_settings({"S3_BUCKET_NAME": "bucket"})
    with pytest.raises(RuntimeError, match="no client"):
        prepare(roots(tmp_path), settings, DeployOptions(), s3_client=no_client)
    assert seen == [False]
    assert gc.isenabled()


def in_generation(thing: object, generation: int) -> bool:
    return any(other is thing for other in gc.get_objects(generation=generation))


class _Node:
    """A cycle the pause builds: a boto3 client is one (its event handlers
    hold it), and holds its session and service models."""

    def __init__(self) -> None:
        self.itself = self


def test_a_cycle_built_in_the_pause_is_freed_by_a_young_collection() -> None:
    """Moved to the oldest generation, it would wait for a full collection,
    which may not come for many runs."""
    gc.enable()
    with collector_paused():
        node = _Node()
        gone = weakref.ref(node)
    del node
    gc.collect(1)
    assert gone() is None


@pytest.fixture
def frozen_by_the_app() -> Iterator[list[object]]:
    kept: list[object] = [[]]
    gc.freeze()
    yield kept
    gc.unfreeze()


def test_objects_the_app_froze_stay_frozen(frozen_by_the_app: list[object]) -> None:
    """A pre-fork server freezes its objects so that workers share their
    pages; the pause must not thaw them."""
    gc.enable()
    with collector_paused():
        plan = [[] for _ in range(1000)]

    assert gc.get_freeze_count() > 0
    assert not any(in_generation(frozen_by_the_app, g) for g in range(3))
    assert not in_generation(plan, 2)
