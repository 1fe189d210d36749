"""Cache keys of the site's machinery, built here and nowhere else (user text is hashed)."""
import hashlib


def anonymous_page(full_path: str) -> str:
    """A whole page as rendered for visitors without a session (ask.core.caching)."""
    return "core:page:" + hashlib.sha256(full_path.encode()).hexdigest()


def shell_page(full_path: str, variant: str) -> str:
    """A page's shell for one role and time zone (ask.core.shells): the variant names them."""
    return "core:shell:" + hashlib.sha256(f"{variant}\n{full_path}".encode()).hexdigest()
