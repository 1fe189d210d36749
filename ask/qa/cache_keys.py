"""Every cache key of the Q&A app, built here and nowhere else (user text is hashed)."""
import hashlib

SIDEBAR = "ask:sidebar"  # what calc_sidebar computed: popular tags and best members
LISTS_VERSION = "ask:lists:version"  # bumped when a new question, answer or accept changes the lists
# Bumped by bulk writes (import_data, import_stackexchange): every question page goes stale at once,
# instead of one version key per question written.
BULK_VERSION = "ask:bulk:version"
SIDEBAR_FRAGMENT = "ask_sidebar"  # {% cache %} fragment name of the sidebar
QUESTION_CARD_FRAGMENT = "ask_card"  # {% cache %} fragment name of a question card


def list_total(name: str) -> str:
    """A list's counted total for its page numbers: "new" (every visible question) or "tag:NAME"."""
    return "ask:total:" + hashlib.sha256(name.encode()).hexdigest()[:24]


def question_version(question_id: int) -> str:
    """Bumped by every change shown on the question's page (answer, vote, accept)."""
    return f"ask:question:{question_id}:version"
