"""Nothing read from a cache runs code: signed JSON on memcached and in the file cache, never pickle."""
import pickle
import zlib

import pytest
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from pymemcache.client.base import Client as RawClient

from ask.core import cache_codec
from ask.core.cache_backend import SignedFileBasedCache
from ask.core.cache_keys import anonymous_page
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db


class Payload:
    """Unpickling this creates the file: proof that a cached value ran code."""

    def __init__(self, path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def raw_memcached() -> RawClient:
    """A client of its own, waiting for each reply (pymemcache's default noreply would race the site's read)."""
    host, port = cache._servers[0].rsplit(":", 1)
    return RawClient((host, int(port)), default_noreply=False)


def test_a_pickle_planted_under_a_page_key_in_memcached_runs_nothing_and_reads_as_a_miss(client, tmp_path):
    QuestionFactory(title="The real front page")
    ran = tmp_path / "ran"
    raw_memcached().set(cache.make_key(anonymous_page("/")), pickle.dumps(Payload(ran)), flags=1)
    response = client.get("/")
    assert not ran.exists(), "the planted pickle was never unpickled"
    assert response.status_code == 200 and response["X-Cache"] == "miss"
    assert "The real front page" in response.content.decode()


def test_a_page_signed_with_another_key_is_not_served(client, settings):
    """A staging site on the same pool (another SECRET_KEY) or anybody on the port cannot plant a page."""
    QuestionFactory(title="The real front page")
    client.get("/")
    page_key = cache.make_key(anonymous_page("/"))
    versions = cache.get(anonymous_page("/"))[0]
    forged_page = [versions, b"<script>planted</script>", "text/html"]
    real_key = settings.SECRET_KEY
    settings.SECRET_KEY = "the staging site's key"
    forged = cache_codec.encode(forged_page)
    settings.SECRET_KEY = real_key
    raw_memcached().set(page_key, forged[0], flags=forged[1])
    response = client.get("/")
    assert "planted" not in response.content.decode() and "The real front page" in response.content.decode()
    raw_memcached().set(page_key, *cache_codec.encode(forged_page)[:1], flags=cache_codec.FLAG_SIGNED_JSON)
    assert "planted" in client.get("/").content.decode(), "signed with the site's key, the same page is served"


def test_the_sites_own_values_go_round_through_memcached_and_counters_still_count():
    values = {"sidebar": {"tags": [{"name": "python", "count": 3}], "members": []},
              "page": ([12, 13], b"<html>\xc3\xa9</html>", "text/html; charset=utf-8"),
              "fragment": mark_safe("<li>cached</li>"), "number": 7, "text": "é", "nothing": None}
    cache.set_many(values)
    got = cache.get_many(list(values))
    assert got["sidebar"] == values["sidebar"] and got["page"] == [[12, 13], values["page"][1], values["page"][2]]
    assert got["fragment"] == "<li>cached</li>" and not isinstance(got["fragment"], SafeString)
    assert got["number"] == 7 and got["text"] == "é"
    assert cache.incr("number") == 8 and cache.get("number") == 8
    cache.set("object", object())  # refused by the codec (pymemcache reports it as a failed set)
    assert cache.get("object") is None
    with pytest.raises(TypeError, match="the cache stores JSON values"):
        cache_codec.encode(object())


def test_the_file_cache_refuses_a_planted_pickle_and_keeps_its_own_values(tmp_path):
    files = SignedFileBasedCache(str(tmp_path / "cache"), {})
    files.set("page", ([1], b"bytes", "text/html"), 60)
    assert files.get("page") == [[1], b"bytes", "text/html"]
    assert files.touch("page", 120) and files.get("page") == [[1], b"bytes", "text/html"]
    files.set("counter", 1)
    assert files.incr("counter") == 2
    ran = tmp_path / "ran"
    path = files._key_to_file("planted")
    with open(path, "wb") as f:  # Django's own file format: a pickled expiry, then a pickled value
        f.write(pickle.dumps(None) + pickle.dumps(Payload(ran)))
    assert files.get("planted", "default") == "default" and not ran.exists()
    with open(path, "wb") as f:  # the site's format with a value it did not sign
        f.write(b"none\n1\n" + zlib.compress(pickle.dumps(Payload(ran))))
    assert files.get("planted", "default") == "default" and not ran.exists()
