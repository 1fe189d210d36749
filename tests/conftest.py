"""Fixtures shared by every test: caches cleared, factories, real memcached and child processes."""
import pytest
from django.core.cache import caches

from tests.support import Memcached


@pytest.fixture(autouse=True)
def clear_caches():
    """Each test starts with empty caches, whatever the last one left."""
    for cache in caches.all():
        cache.clear()
    yield


@pytest.fixture
def memcached():
    """A memcached of the test's own, to stop or freeze without disturbing the suite's."""
    server = Memcached()
    yield server
    server.close()


@pytest.fixture
def var_dir(tmp_path):
    path = tmp_path / "var"
    path.mkdir()
    return path
