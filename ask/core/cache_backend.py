"""The site's cache backends: Django's, storing signed JSON instead of pickles (ask.core.cache_codec).

PersistentPyMemcacheCache is Django's PyMemcacheCache, faster on every request:
- Keeps its connections between requests. Django closes every cache at the end of each request;
  for pymemcache that means disconnect_all(), so each request opened a new TCP connection
  (measured: a connect and a close per page) and forgot which servers were dead, paying a timeout
  per request during an outage. Like Django's own PyLibMCCache, this backend leaves them alone.
- Picks the server with CRC32 (C) instead of pymemcache's pure-Python murmur3, which cost ≈ 22 µs a
  key, a fifth of a cached page; with one server it does not hash at all. The choice is the same in
  every process, which is all rendezvous hashing needs.
- A server that fails keeps its keys (each a miss, at no cost, until CACHE_DEAD_SECONDS have passed
  and it is tried again). pymemcache takes it off the ring instead, so its keys move to the other
  servers: a page cached there with its version keys then outlived the change whose version bump
  went to the failed server (another process had not noticed yet), and was served stale until its
  timeout. Seen on the rig of hosts: a question asked while one of two servers was down was missing
  from the new-questions page.
"""
import time
import zlib

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.memcached import PyMemcacheCache
from django.core.files import locks
from django_prometheus.cache.backends.memcached import MemcachedPrometheusCacheMixin
from pymemcache.client.hash import HashClient
from pymemcache.client.rendezvous import RendezvousHash

from ask.core.cache_codec import MISS, SignedJsonSerde, decode, encode


class Crc32RendezvousHash(RendezvousHash):
    def get_node(self, key: str):
        nodes = self.nodes
        if len(nodes) == 1:
            return nodes[0]
        return max(nodes, key=lambda node: zlib.crc32(f"{node}-{key}".encode()), default=None)

    def remove_node(self, node) -> None:
        """A failed server stays on the ring: its keys never move to another (KeyKeepingHashClient)."""


class KeyKeepingHashClient(HashClient):
    """pymemcache's HashClient, but a server it has marked dead answers every call with a miss (a
    write goes nowhere) until dead_timeout has passed, instead of its keys going to the others."""

    def _safely_run_func(self, client, func, default_val, *args, **kwargs):
        if client.server in self._dead_clients:
            return default_val
        return super()._safely_run_func(client, func, default_val, *args, **kwargs)

    def _safely_run_set_many(self, client, values, *args, **kwargs):
        if client.server in self._dead_clients:
            return list(values)  # the keys not stored
        return super()._safely_run_set_many(client, values, *args, **kwargs)


class PersistentPyMemcacheCache(MemcachedPrometheusCacheMixin, PyMemcacheCache):
    """Django's pymemcache backend with the key-keeping ring and the signed codec; its gets are
    counted for /metrics (hits and misses, django-prometheus)."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = KeyKeepingHashClient
        self._options = {"hasher": Crc32RendezvousHash, **self._options, "serde": SignedJsonSerde()}

    def close(self, **kwargs) -> None:
        pass

    def servers_down(self) -> list[str]:
        """The servers of the pool that do not answer, each asked directly: the pool's ignore_exc
        (an outage is a miss for pages) would make a job that fills or clears the cache say "done"."""
        return [f"{server} ({error})" for server, error in self._each_server("version")]

    def clear(self) -> None:
        """flush_all on every server, each asked directly and answering; raises naming those that did not."""
        failed = [f"{server} ({error})" for server, error in self._each_server("flush_all", noreply=False)]
        if failed:
            raise ConnectionError(f"memcached flush_all failed on {', '.join(failed)}")

    def _each_server(self, command: str, **kwargs) -> list[tuple[str, str]]:
        failed = []
        for server, client in self._cache.clients.items():
            try:
                getattr(client, command)(**kwargs)
            except Exception as error:  # noqa: BLE001 - refused, timed out, reset: the server is not there
                failed.append((server, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__))
        return failed


class SignedFileBasedCache(FileBasedCache):
    """Django's file cache (the embedded site's) with the same signed JSON instead of pickle.

    A file holds a line with the expiry (Unix time, or "none"), a line with the codec's flags, then
    the zlib-compressed value.
    """

    def get(self, key, default=None, version=None):
        try:
            with open(self._key_to_file(key, version), "rb") as f:
                if not self._is_expired(f):
                    value = self._read_value(f, key)
                    return default if value is MISS else value
        except FileNotFoundError:
            pass
        return default

    def _read_value(self, f, key):
        try:
            flags = int(f.readline())
            return decode(zlib.decompress(f.read()), flags, key=key)
        except (ValueError, zlib.error):
            return decode(b"", -1, key=key)  # logged and refused like any foreign value

    def _write_content(self, file, timeout, value):
        expiry = self.get_backend_timeout(timeout)
        data, flags = encode(value)
        file.write(f"{'none' if expiry is None else repr(expiry)}\n{flags}\n".encode("ascii"))
        file.write(zlib.compress(data))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            with open(self._key_to_file(key, version), "r+b") as f:
                try:
                    locks.lock(f, locks.LOCK_EX)
                    if self._is_expired(f):
                        return False
                    value = self._read_value(f, key)
                    if value is MISS:
                        return False
                    f.seek(0)
                    f.truncate()
                    self._write_content(f, timeout, value)
                    return True
                finally:
                    locks.unlock(f)
        except FileNotFoundError:
            return False

    def _is_expired(self, f):
        line = f.readline().strip()
        try:
            expiry = None if line == b"none" else float(line)
        except ValueError:
            expiry = 0  # empty, or a file of another format (Django's pickles): expired
        if expiry is not None and expiry < time.time():
            f.close()
            self._delete(f.name)
            return True
        return False
