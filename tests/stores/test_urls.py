"""Store URLs carry any path byte for byte (blockstore.urls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from blockstore.urls import file_url, redacted, sqlite_url, url_path
from chunkstore import LocalChunkStore, open_chunk_store
from manifest import sqlite_path
from services.config import default_urls

ODD = ["/srv/bk#1", "/srv/a?b", "/srv/50%", "/srv/%23", "/srv/sp ace/é", "/srv/x;y=z"]


@pytest.mark.parametrize("path", ODD)
def test_a_path_survives_its_url(path):
    assert url_path(file_url(Path(path)), "file") == Path(path)
    assert sqlite_path(sqlite_url(Path(path) / "manifest.db")) == Path(path) / "manifest.db"


def test_default_urls_keep_a_hash_inside_the_data_dir(tmp_path):
    data_dir = tmp_path / "bk#1"
    db, chunks = default_urls(data_dir)
    assert sqlite_path(db) == data_dir / "manifest.db"
    store = open_chunk_store(chunks, fsync=False)
    assert isinstance(store, LocalChunkStore) and store.root == data_dir / "chunks"


@pytest.mark.parametrize("url", ["file:///srv/bk#1/chunks", "file:///srv/a?b", "file:///x#",
                                 "sqlite:///srv/bk#1/manifest.db"])
def test_an_unquoted_hash_or_question_mark_is_refused_not_cut(url):
    with pytest.raises(ValueError, match="%23"):
        url_path(url, url.split(":")[0])


@pytest.mark.parametrize("url", ["file://host/path", "file:relative", "sqlite://rel/x.db",
                                 "memory://"])
def test_urls_without_an_absolute_local_path_are_refused(url):
    with pytest.raises(ValueError, match="three slashes|expected"):
        url_path(url, url.split(":")[0])


def test_passwords_are_redacted_from_messages():
    assert redacted("postgresql://bob:s3cret@db:5432/bs") == "postgresql://bob:***@db:5432/bs"
    assert redacted("sqlite:///srv/m.db") == "sqlite:///srv/m.db"
