from __future__ import annotations

import gc
import hashlib
import logging
import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest

from flask_s3.adapters import file_hashes, static_files
from flask_s3.adapters.static_files import UnreadableFile, hash_assets, list_static_root
from flask_s3.core import resolve_settings
from flask_s3.core.frozen import FrozenDict
from flask_s3.core.manifest import Manifest, ManifestEntry
from flask_s3.core.static_assets import Listing, Origin, StaticRoot, discover_assets
from flask_s3.core.upload_plan import LocalFile, plan_uploads


def tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def listed(folder: Path, *, include_hidden: bool = False) -> tuple[str, ...]:
    root = StaticRoot(str(folder), "/static")
    return walked(root, include_hidden=include_hidden).relative_paths


def walked(root: StaticRoot, *, include_hidden: bool = False) -> Listing:
    """The whole walk as one listing: it hands over a folder at a time."""
    listings = list(list_static_root(root, include_hidden=include_hidden))
    for listing in listings:
        assert listing.root is root
    return Listing(
        root,
        tuple(path for listing in listings for path in listing.relative_paths),
        FrozenDict(item for listing in listings for item in listing.origins.items()),
    )


def test_walk_lists_regular_files_sorted_with_slashes(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {"b.js": b"", "css/a.css": b"", "css/deep/x/y.png": b"", "a b+c.txt": b""},
    )
    assert listed(tmp_path) == ("a b+c.txt", "b.js", "css/a.css", "css/deep/x/y.png")


def test_hidden_directories_are_not_entered(tmp_path: Path) -> None:
    tree(tmp_path, {".git/HEAD": b"", "css/.cache/a": b"", ".env": b"", "a.css": b""})
    assert listed(tmp_path) == ("a.css",)
    assert listed(tmp_path, include_hidden=True) == (
        ".env",
        ".git/HEAD",
        "a.css",
        "css/.cache/a",
    )


def test_missing_folder_warns_and_lists_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        assert listed(tmp_path / "nope") == ()
    assert "does not exist" in caplog.text


def test_symlinks_inside_are_followed_and_escapes_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    static = tmp_path / "static"
    tree(static, {"css/a.css": b"a"})
    tree(tmp_path, {"secret/key.pem": b"secret", "outside.txt": b"x"})
    (static / "alias").symlink_to(static / "css")
    (static / "escape").symlink_to(tmp_path / "secret")
    (static / "escape.txt").symlink_to(tmp_path / "outside.txt")
    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        assert listed(static) == ("alias/a.css", "css/a.css")
    assert caplog.text.count("outside the static folder") == 2


def test_symlink_loops_are_cut(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tree(tmp_path, {"a/b.css": b""})
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    (tmp_path / "top").symlink_to(tmp_path)
    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        files = listed(tmp_path)
    assert files == ("a/b.css",)
    assert "symlink loop" in caplog.text


def test_undecodable_names_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tree(tmp_path, {"ok.css": b""})
    bad = os.path.join(os.fsencode(tmp_path), b"bad-\xff.css")
    with open(bad, "wb"):
        pass
    with caplog.at_level(logging.WARNING, logger="flask_s3"):
        assert listed(tmp_path) == ("ok.css",)
    assert "not valid UTF-8" in caplog.text


def test_hash_assets_gives_sha1_and_size(tmp_path: Path) -> None:
    tree(tmp_path, {"a.css": b"body{}", "b/c.js": b"x" * 100_000})
    root = StaticRoot(str(tmp_path), "/static")
    assets = discover_assets(resolve_settings({}), [Listing(root, ("a.css", "b/c.js"))])
    files = list(hash_assets(assets))
    assert [(f.asset.key, f.sha1, f.size) for f in files] == [
        ("static/a.css", hashlib.sha1(b"body{}").hexdigest(), 6),
        ("static/b/c.js", hashlib.sha1(b"x" * 100_000).hexdigest(), 100_000),
    ]


def test_an_unreadable_file_is_a_clear_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree(tmp_path, {"ok.css": b"x", "locked.css": b"y"})
    root = StaticRoot(str(tmp_path), "/static")
    assets = discover_assets(
        resolve_settings({}), [Listing(root, ("locked.css", "ok.css"))]
    )
    real = file_hashes.open_checked

    def refuse(path: str, origin: Origin | None) -> tuple[int, os.stat_result]:
        if path.endswith("locked.css"):
            raise PermissionError(13, "Permission denied", path)
        return real(path, origin)

    monkeypatch.setattr(file_hashes, "open_checked", refuse)
    with pytest.raises(
        UnreadableFile,
        match=r"cannot read static file .*locked\.css: Permission denied",
    ):
        list(hash_assets(assets))


def test_a_file_written_while_hashed_is_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree(tmp_path, {"a.css": b"one"})
    path = tmp_path / "a.css"
    real = file_hashes.read_whole
    calls: list[int] = []

    def racing(descriptor: int, size: int) -> bytes:
        calls.append(size)
        data = real(descriptor, size)
        if len(calls) == 1:
            path.write_bytes(b"two, longer")  # lands after the bytes were read
        return data

    monkeypatch.setattr(file_hashes, "read_whole", racing)
    root = StaticRoot(str(tmp_path), "/static")
    [asset] = discover_assets(resolve_settings({}), [Listing(root, ("a.css",))])
    [local] = hash_assets([asset])
    assert len(calls) == 2
    assert local.sha1 == hashlib.sha1(b"two, longer").hexdigest()
    assert local.stamp == (path.stat().st_mtime_ns, 11, path.stat().st_ino)


def test_a_file_that_never_holds_still_fails_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log appended to under static/ must not keep the run hashing forever."""
    tree(tmp_path, {"app.log": b"0"})
    path = tmp_path / "app.log"
    real = file_hashes.read_whole
    calls: list[int] = []

    def appending(descriptor: int, size: int) -> bytes:
        calls.append(size)
        data = real(descriptor, size)
        with path.open("ab") as log:
            log.write(b"1")
        return data

    monkeypatch.setattr(file_hashes, "read_whole", appending)
    root = StaticRoot(str(tmp_path), "/static")
    [asset] = discover_assets(resolve_settings({}), [Listing(root, ("app.log",))])
    with pytest.raises(UnreadableFile, match=r"app\.log kept changing"):
        list(hash_assets([asset]))
    assert len(calls) == file_hashes.STABLE_READS


def hidden_behind_links(static: Path) -> None:
    """Links with plain names to hidden files and folders inside the folder."""
    tree(static, {".git/config": b"[remote]", ".env": b"SECRET=1", "a.css": b"a"})
    tree(static, {"css/.cache/c.css": b"c"})
    (static / "vendor").symlink_to(".git")
    (static / "js").mkdir()
    (static / "js" / "robots.txt").symlink_to(Path("..") / ".env")
    (static / "c.css").symlink_to(static / "css" / ".cache" / "c.css")
    (static / "alias").symlink_to("css")


def test_links_to_hidden_files_are_hidden_files(tmp_path: Path) -> None:
    hidden_behind_links(tmp_path)
    assert listed(tmp_path) == ("a.css",)


def test_links_to_hidden_files_stay_hidden_when_the_walk_lists_them(
    tmp_path: Path,
) -> None:
    """Pruning walks with hidden files included, so that it never deletes a
    file that exists; only ``include_hidden=True`` may publish them."""
    hidden_behind_links(tmp_path)
    root = StaticRoot(str(tmp_path), "/static")
    listing = walked(root, include_hidden=True)
    assert "vendor/config" in listing.relative_paths
    assert "js/robots.txt" in listing.relative_paths
    settings = resolve_settings({})
    assert [a.relative_path for a in discover_assets(settings, [listing])] == ["a.css"]
    assert {
        a.relative_path
        for a in discover_assets(settings, [listing], include_hidden=True)
    } >= {"vendor/config", "js/robots.txt", "c.css", ".env", ".git/config"}


def test_a_folder_under_a_hidden_directory_is_served_as_usual(tmp_path: Path) -> None:
    """Only what lies below the static folder counts: ``~/.local/...`` is
    where its owner chose to keep it."""
    static = tmp_path / ".local" / "site" / "static"
    tree(static, {"css/a.css": b"a"})
    (static / "alias").symlink_to("css")
    (static / "b.css").symlink_to(static / "css" / "a.css")
    assert listed(static) == ("alias/a.css", "b.css", "css/a.css")
    linked = tmp_path / "linked-static"
    linked.symlink_to(static)
    assert listed(linked) == ("alias/a.css", "b.css", "css/a.css")


def test_the_walk_resolves_only_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # realpath costs a lstat per component: per file, it was most of a walk.
    tree(tmp_path, {"a.css": b"", "css/b.css": b"", "css/deep/c.png": b""})
    (tmp_path / "alias").symlink_to(tmp_path / "css" / "deep")
    resolved: list[str] = []
    real = os.path.realpath

    def counting(path: str, **options: bool) -> str:
        resolved.append(path)
        return real(path, **options)

    monkeypatch.setattr(os.path, "realpath", counting)
    listing = walked(StaticRoot(str(tmp_path), "/static"))
    assert listing.relative_paths == (
        "a.css",
        "alias/c.png",
        "css/b.css",
        "css/deep/c.png",
    )
    assert resolved == [str(tmp_path), str(tmp_path / "alias")]
    folder = real(tmp_path)
    assert listing.origins["alias/c.png"].path == f"{folder}/css/deep/c.png"
    assert listing.origins["alias/c.png"].target == "css/deep/c.png"
    assert listing.origins["css/b.css"].path == f"{folder}/css/b.css"
    inode = os.stat(tmp_path / "css" / "deep" / "c.png").st_ino
    assert listing.origins["alias/c.png"].inode == inode


def test_small_files_are_hashed_without_threads_and_big_ones_in_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Future per file cost more than hashing a small one.
    big = b"b" * static_files.PARALLEL_SIZE
    tree(tmp_path, {"a.css": b"a", "big.bin": big, "c.js": b"c" * 4096})
    submitted: list[str] = []

    class Pool(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted.append(args[0].relative_path)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(static_files, "ThreadPoolExecutor", Pool)
    root = StaticRoot(str(tmp_path), "/static")
    assets = discover_assets(resolve_settings({}), list_static_root(root))
    files = list(hash_assets(assets))
    assert submitted == ["big.bin"]
    assert [(f.asset.relative_path, f.sha1, f.size) for f in files] == [
        ("a.css", hashlib.sha1(b"a").hexdigest(), 1),
        ("big.bin", hashlib.sha1(big).hexdigest(), len(big)),
        ("c.js", hashlib.sha1(b"c" * 4096).hexdigest(), 4096),
    ]


def test_files_share_their_device_and_inode_ints(tmp_path: Path) -> None:
    """A big site holds a record per file until the run ends: files on one
    device share one device int, and a hashed file's stamp shares the walk's
    inode int, which is the same number."""
    tree(tmp_path, {f"d{n}/f{n}.css": str(n).encode() * 300 for n in range(4)})
    listing = walked(StaticRoot(str(tmp_path), "/static"))
    origins = [listing.origins[path] for path in listing.relative_paths]
    assert len({id(origin.device) for origin in origins}) == 1
    assert origins[0].device == os.stat(tmp_path / "d0/f0.css").st_dev
    settings = resolve_settings({"S3_BUCKET_NAME": "bucket"})
    files = list(hash_assets(discover_assets(settings, [listing])))
    inodes = []
    for file in files:
        assert file.stamp is not None
        assert file.asset.origin is not None
        assert file.stamp[2] is file.asset.origin.inode
        inodes.append(file.stamp[2])
    assert inodes == [os.stat(tmp_path / f"d{n}/f{n}.css").st_ino for n in range(4)]


def test_the_records_a_run_holds_per_file_are_lean(tmp_path: Path) -> None:
    """A big site holds each file's origin, asset, hash, plan item and
    manifest entry until the run ends: none has a weakref slot (16 bytes
    each, as allocated), and the stamp is built from the hashed file's own
    ints when asked for, not kept as a tuple (64 bytes)."""
    tree(tmp_path, {"a.css": b"a" * 300, "img/b.png": b"b" * 300})
    settings = resolve_settings({"S3_BUCKET_NAME": "bucket"})
    listing = walked(StaticRoot(str(tmp_path), "/static"))
    files = list(hash_assets(discover_assets(settings, [listing])))
    plan = plan_uploads(settings, files, Manifest(), acl=None)
    for item in plan.items:
        file = item.local
        assert file.asset.origin is not None
        entry = ManifestEntry(file.sha1, None)
        for record in (file.asset.origin, file.asset, file, item, entry):
            with pytest.raises(TypeError):
                weakref.ref(record)
        fields = [getattr(file, field.name) for field in attrs.fields(LocalFile)]
        assert not any(isinstance(value, tuple) for value in fields)
        assert file.stamp is not None
        assert file.stamp[0] is file.mtime_ns
        assert (file.stamp, item.stamp, item.sha1) == (
            (file.mtime_ns, file.size, file.inode),
            file.stamp,
            file.sha1,
        )


def test_hashing_hands_over_each_file_in_order_as_it_is_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan takes each file as it is hashed, so a skipped one is never
    held: the first small file comes before any other is read, and large
    files (hashed in threads) keep their place."""
    big = static_files.PARALLEL_SIZE
    contents = {
        "a.css": b"a" * 300,
        "b.png": b"b" * big,
        "c.js": b"c" * 300,
        "d.png": b"d" * big,
        "e.css": b"e" * 300,
    }
    tree(tmp_path, contents)
    read: list[str] = []
    real = static_files.stable_digest

    def counting(path: str, *args: Any, **kwargs: Any) -> Any:
        read.append(os.path.basename(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(static_files, "stable_digest", counting)
    settings = resolve_settings({"S3_BUCKET_NAME": "bucket"})
    assets = discover_assets(
        settings, list_static_root(StaticRoot(str(tmp_path), "/static"))
    )
    taken = hash_assets(assets)
    first = next(taken)
    assert (first.asset.relative_path, read) == ("a.css", ["a.css"])
    rest = list(taken)
    assert [file.asset.relative_path for file in [first, *rest]] == sorted(contents)
    for file in [first, *rest]:
        body = contents[file.asset.relative_path]
        assert (file.sha1, file.size) == (hashlib.sha1(body).hexdigest(), len(body))


def test_a_deploy_plan_keeps_nothing_of_a_skipped_file_but_its_key(
    tmp_path: Path,
) -> None:
    """Most of a big site's files are skipped: a deploy's plan keeps their
    keys, and no hashed file, asset or plan item of theirs stays alive; a
    preview (detailed) shows every file."""
    tree(tmp_path, {"same.css": b"s" * 300, "new.js": b"n" * 300, "img/p.png": b"p"})
    settings = resolve_settings({"S3_BUCKET_NAME": "bucket", "S3_ONLY_MODIFIED": True})
    root = StaticRoot(str(tmp_path), "/static")

    def hashed() -> Any:
        return hash_assets(discover_assets(settings, list_static_root(root)))

    first = plan_uploads(settings, hashed(), Manifest(), acl=None)
    remote = Manifest(
        {
            item.key: ManifestEntry(item.sha1, item.spec.digest)
            for item in first.items
            if item.key != "static/new.js"
        }
    )
    del first
    gc.collect()
    before = sum(type(record) is LocalFile for record in gc.get_objects())

    lean = plan_uploads(settings, hashed(), remote, acl=None, detailed=False)

    gc.collect()
    after = sum(type(record) is LocalFile for record in gc.get_objects())
    assert [item.key for item in lean.items] == ["static/new.js"]
    assert lean.skipped == ("static/img/p.png", "static/same.css")
    assert after == before + 1
    detailed = plan_uploads(settings, hashed(), remote, acl=None)
    assert [item.key for item in detailed.items] == [
        "static/img/p.png",
        "static/new.js",
        "static/same.css",
    ]
    assert detailed.skipped == lean.skipped
    assert lean.record().skipped == frozenset(lean.skipped)


def test_the_walk_hands_over_a_folder_at_a_time_in_sorted_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big site is never held listed in full: the first folder's files
    come before the rest of the tree is scanned, and the paths still come in
    sorted order, where a folder's (``a/``) sort between ``a.css`` and
    ``a0``."""
    names = ["a-b", "a.css", "a/x.css", "a/y/z.css", "a0", "b/c.css", "zz"]
    tree(tmp_path, {name: b"x" for name in names})
    scanned: list[str] = []
    real = os.scandir

    def counting(path: str) -> Any:
        scanned.append(os.path.relpath(path, tmp_path))
        return real(path)

    monkeypatch.setattr(os, "scandir", counting)
    listings = list_static_root(StaticRoot(str(tmp_path), "/static"))
    first = next(listings)
    assert (first.relative_paths, scanned) == (("a-b", "a.css"), [".", "a"])
    rest = list(listings)
    paths = [path for listing in [first, *rest] for path in listing.relative_paths]
    assert paths == sorted(names)
    assert scanned == [".", "a", "a/y", "b"]
