"""Cache keys of the site's machinery, built here and nowhere else (user text is hashed)."""
import hashlib


def anonymous_page(full_path: str) -> str:
    """A whole page as rendered for visitors without a session (ask.core.caching)."""
    return "core:page:" + hashlib.sha256(full_path.encode()).hexdigest()
