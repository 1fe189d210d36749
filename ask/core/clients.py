"""Who is asking: the real client address behind the site's own proxies (rate limits, log-in throttling).

Behind nginx every request's REMOTE_ADDR is the proxy, so a per-client limit counted the proxy and
limited everybody at once. ASK_TRUSTED_PROXIES says how many proxies of ours stand in front (nginx:
1). Each appends the address it saw to X-Forwarded-For, so the client is the entry that many places
from the right; entries further left are whatever the client sent and are never believed. With 0
(the default, no proxy) X-Forwarded-For is ignored altogether: a client cannot pick its own address.
"""
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    proxies = settings.ASK_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < proxies:
        return remote  # not through all our proxies: the nearest peer is the best we know
    candidate = chain[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
