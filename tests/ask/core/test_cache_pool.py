"""A memcached pool with one server down: its keys miss and never move to the others, where a copy
would outlive a change whose invalidation went to the server that was down."""
import time

from django.conf import settings
from pymemcache.client.base import Client as RawClient

from ask.core.cache_backend import PersistentPyMemcacheCache
from tests.support import Memcached


def pool(*servers: Memcached) -> PersistentPyMemcacheCache:
    options = {**settings.CACHES["default"].get("OPTIONS", {}), "ignore_exc": True, "retry_attempts": 1,
               "retry_timeout": 0.05, "dead_timeout": 2, "connect_timeout": 0.2, "timeout": 0.2}
    options.pop("use_pooling", None)
    options.pop("max_pool_size", None)
    return PersistentPyMemcacheCache([server.location for server in servers], {"OPTIONS": options})


def key_on(cache: PersistentPyMemcacheCache, server: Memcached) -> str:
    client = cache._cache
    return next(key for key in (f"k{n}" for n in range(1000))
                if client._get_client(cache.make_and_validate_key(key)).server == ("127.0.0.1", server.port))


def test_keys_of_a_server_that_is_down_miss_and_never_move_to_the_other_one():
    first, second = Memcached(), Memcached()
    try:
        cache = pool(first, second)
        key = key_on(cache, first)
        cache.set(key, "before")
        assert cache.get(key) == "before"
        first.stop()
        for _ in range(6):  # enough failures for pymemcache to count the server dead
            assert cache.get(key) is None
            cache.set(key, "during")
            time.sleep(0.1)
        started = time.monotonic()
        assert cache.get(key) is None and time.monotonic() - started < 0.05, "a dead server costs nothing"
        raw = RawClient(("127.0.0.1", second.port))
        assert raw.get(cache.make_and_validate_key(key)) is None, "the key did not move to the other server"
        other = key_on(cache, second)
        cache.set(other, "kept")
        assert cache.get(other) == "kept", "the other server goes on as before"
    finally:
        first.close()
        second.close()
