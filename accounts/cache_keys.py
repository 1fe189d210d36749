"""Cache keys of the accounts app; every key the app uses is built here."""


def activation_key(key_hash: str) -> str:
    """Activation key (by its SHA-256) -> user id, cached for the key's lifetime."""
    return f"accounts:activation:{key_hash}"
