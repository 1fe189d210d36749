"""Caching headers that keep one visitor's page out of every shared cache on the way.

A page rendered for a logged-in member (their name, their CSRF token) is marked Cache-Control:
private, so no proxy or CDN keeps it for the next visitor; every response that depends on the
session says Vary: Cookie. The site's own page cache (ask.core.caching) serves anonymous visitors
only, and its responses say Vary: Cookie too.
"""
from django.utils.cache import patch_cache_control, patch_vary_headers


class PrivatePagesMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
        return response
