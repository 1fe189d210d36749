"""Pages for visitors with a session rendered once and shared, each reader's own bits filled in per
request.

A member's page differs from the next member's in a few places: their name and the log-out form in
the header, the CSRF token in every form, their votes, their flags, what they follow, the controls on
their own posts. The templates mark each of these with `{% personal "slot" args %}`; everything else
is the same for every member who reads the page in the same time zone.

So such a page is rendered as a *shell*: the page with a marker where each slot goes. A slot is
- a *choice* (`vote`, `post_controls`, ...): every state a member can be in (voted up, voted down,
  not voted, own post) is rendered into the shell once; filling picks one, from facts read in one
  query for the whole page (the slot's facts group);
- a *per-request* slot (`display_name`, `profile_url`, `messages`, `cart_count`): made for each
  request in a few microseconds.
The CSRF token is a marker too, replaced by the request's token. ask.core.caching keeps shells like
anonymous pages (the same version keys), keyed by the release, the reader's role and time zone:
filling a cached shell costs a join of strings and at most one small query, where rendering the page
costs ≈ 10 ms.

Nothing of one member can reach another: a shell is rendered for a stand-in member (ShellMember) who
is nobody in particular, through a request that has nothing else of the reader's (ShellRequest), and
its markers carry a random nonce drawn for each render, so text in a post that imitates a marker
stays text (it is never split or replaced). Never put a slot inside a {% cache %} fragment: the
fragment would keep one render's marker.
"""
import hashlib
import inspect
import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from django.apps import apps

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import Context
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from django.conf import settings

PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")  # a visitor with either has a page of their own
RECORDER = "personal_shell"  # the context variable that holds the Recorder while a shell is rendered
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use characters around a marker


@dataclass(frozen=True)
class ChoiceSlot:
    """A slot with a few states, all rendered into the shell; `choose` picks the reader's."""

    template: str
    names: tuple[str, ...]  # what the tag's arguments are called in the template
    key: Callable[..., tuple]  # the tag's arguments -> a JSON-able identity (ids, author id)
    states: Callable[..., tuple[str, ...]]  # the tag's arguments -> every state a member can be in
    choose: Callable[[Any, Any, tuple], str]  # (user, fact or None, key) -> state
    visitor: str = "visitor"  # the state of a reader without an account
    facts: str | None = None  # the facts group that reads what choose needs (register_facts)
    variables: Callable[[str], dict] = lambda state: {}  # extra template variables of a state


@dataclass(frozen=True)
class RequestSlot:
    """A slot made for each request: render(request) returns its HTML."""

    render: Callable[[HttpRequest], str]


SLOTS: dict[str, ChoiceSlot | RequestSlot] = {}
# group -> loader(user, [(slot name, key), ...]) -> {(slot name, key): fact}: one query for a page.
FACTS: dict[str, Callable[[Any, list[tuple[str, tuple]]], dict]] = {}


def register_slot(name: str, slot: ChoiceSlot | RequestSlot) -> None:
    SLOTS[name] = slot


def register_facts(group: str, loader: Callable[[Any, list[tuple[str, tuple]]], dict]) -> None:
    FACTS[group] = loader


class ShellMember:
    """The reader a shell is rendered for: signed in, of the shell's role, and nobody in particular
    (no pk, no name), so nothing of a real member can end up in a page another member gets."""

    is_authenticated, is_anonymous, is_superuser = True, False, False
    pk = id = None
    display_name = email = ""

    def __init__(self, *, is_staff: bool, time_zone: str) -> None:
        self.is_staff = is_staff
        self.time_zone = time_zone

    def has_perm(self, perm, obj=None) -> bool:  # `perms` in a template: nothing of anybody's
        return False

    def has_perms(self, perms, obj=None) -> bool:
        return False

    def has_module_perms(self, app_label) -> bool:
        return False


class ShellRequest:
    """The request as a shell's templates and context processors see it: its address and parameters,
    the stand-in as its user, and nothing else of the real reader's (no session, cookies, headers):
    what a template or tag reads through `request` is the same for every reader of the shell."""

    _SHARED = frozenset({"path", "path_info", "method", "GET", "resolver_match", "get_full_path", "get_host",
                         "scheme", "is_secure", "build_absolute_uri", "get_port", "urlconf"})

    def __init__(self, request: HttpRequest, user) -> None:
        self._request, self.user = request, user
        self.session, self.COOKIES = {}, {}

    def __getattr__(self, name: str):
        if name in self._SHARED:
            return getattr(self._request, name)
        raise AttributeError(f"{name}: not in a shell's request (ask.core.shells.ShellRequest)")


@dataclass
class Recorder:
    """What a shell render collects: the slots in the order their markers were written."""

    nonce: str = field(default_factory=lambda: secrets.token_hex(12))
    slots: list[list] = field(default_factory=list)

    def marker(self, index: int | str) -> str:
        return f"{MARK_OPEN}{self.nonce}:{index}{MARK_CLOSE}"

    def add(self, name: str, key: tuple | None = None, variants: dict[str, str] | None = None) -> SafeString:
        self.slots.append([name, key, variants])
        return mark_safe(self.marker(len(self.slots) - 1))


@dataclass(frozen=True)
class Shell:
    """A page rendered for a role: literal parts with a slot between each two, and the CSRF marker.
    Stored as JSON (ask.core.cache_codec): to_data / from_data."""

    literals: list[str]
    slots: list[list]  # [name, key (a tuple) or None, {state: html} or None]
    csrf: str

    def to_data(self) -> dict:
        return {"literals": self.literals, "slots": self.slots, "csrf": self.csrf}

    @classmethod
    def from_data(cls, data: dict) -> "Shell | None":
        """The shell, or None for one this code cannot fill (stored by a version with other slots)."""
        if any(name not in SLOTS for name, _, _ in data["slots"]):
            return None
        return cls(data["literals"], [[n, tuple(k) if k is not None else None, v] for n, k, v in data["slots"]],
                   data["csrf"])


class StaleShell(Exception):
    """A shell without the state a reader is in: made by a version of the code with other states."""


def shell_role(request: HttpRequest) -> str | None:
    """Whose shell serves this request: a visitor with no session at all gets the anonymous page
    instead (None); staff, members and visitors with a session (a cart) each their own."""
    user = request.user
    if user.is_authenticated:
        return "staff" if user.is_staff else "member"
    return "visitor" if any(name in request.COOKIES for name in PERSONAL_COOKIES) else None


def shell_variant(request: HttpRequest, role: str) -> str:
    """What besides the address makes shells differ: the release that rendered them, the role, the
    zone times are shown in, and whether the member has a zone yet (site.js asks the browser for one)."""
    known = "zone" if getattr(request.user, "time_zone", "") else "nozone"
    return f"{shell_release()}|{role}|{timezone.get_current_timezone_name()}|{known}"


@lru_cache(maxsize=1)
def shell_release() -> str:
    """A digest of every template and of the code of every slot: a shell a release with other
    templates or slots stored (another host mid-deploy, the cache from before) is never filled here."""
    digest = hashlib.sha256()
    sources = {Path(inspect.getsourcefile(module)) for module in _slot_modules()}
    for config in apps.get_app_configs():
        sources.update(sorted((Path(config.path) / "templates").rglob("*.html")))
    for path in sorted(sources):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _slot_modules() -> list:
    functions = []
    for slot in SLOTS.values():
        functions += [slot.render] if isinstance(slot, RequestSlot) else [slot.key, slot.choose, slot.states]
    return [inspect.getmodule(function) for function in functions]


def render_personal(request: HttpRequest, template_name: str, context: dict, status: int = 200) -> HttpResponse:
    """Render a page whose personal bits are {% personal %} slots: the anonymous page for a visitor
    without a session; for anyone else the shell, filled for them (the response carries the shell,
    for ask.core.caching to keep)."""
    role = shell_role(request)
    if role is None:
        return render(request, template_name, context, status=status)
    shell = shell_render(request, template_name, context, role)
    response = HttpResponse(shell_fill(shell, request), status=status)
    response.shell = shell
    return response


def shell_render(request: HttpRequest, template_name: str, context: dict, role: str) -> Shell:
    recorder = Recorder()
    stand_in = request.user if role == "visitor" else ShellMember(
        is_staff=role == "staff", time_zone=getattr(request.user, "time_zone", ""))
    csrf = recorder.marker("csrf")
    html = render_to_string(template_name, {**context, RECORDER: recorder, "csrf_token": csrf, "messages": ()},
                            request=ShellRequest(request, stand_in))
    parts = re.split(f"{MARK_OPEN}{recorder.nonce}:(\\d+){MARK_CLOSE}", html)
    if len(parts) != 2 * len(recorder.slots) + 1:
        raise ImproperlyConfigured(f"{template_name}: a slot's marker was lost or repeated in the shell")
    return Shell(parts[0::2], recorder.slots, csrf)


def shell_fill(shell: Shell, request: HttpRequest) -> str:
    """The page for this request: each slot's state chosen or made, the request's CSRF token in."""
    facts = _facts_for(shell, request.user)
    parts = [shell.literals[0]]
    for (name, key, variants), literal in zip(shell.slots, shell.literals[1:]):
        slot = SLOTS[name]
        if variants is None:
            parts.append(slot.render(request))
        else:
            state = slot.choose(request.user, facts.get((name, key)), key)
            if state not in variants:
                raise StaleShell(f"{name}: no variant {state!r}")
            parts.append(variants[state])
        parts.append(literal)
    html = "".join(parts)
    if shell.csrf in html:
        html = html.replace(shell.csrf, get_token(request))
    return html


def _facts_for(shell: Shell, user) -> dict:
    if not user.is_authenticated:
        return {}
    wanted: dict[str, list[tuple[str, tuple]]] = {}
    for name, key, variants in shell.slots:
        group = getattr(SLOTS[name], "facts", None)
        if variants is not None and group:
            wanted.setdefault(group, []).append((name, key))
    facts: dict = {}
    for group, keys in wanted.items():
        facts.update(FACTS[group](user, keys))
    return facts


def slot_html(context: Context, name: str, args: tuple) -> SafeString:
    """What {% personal name args %} writes: a marker in a shell, else the slot for this reader."""
    slot = SLOTS[name]
    recorder: Recorder | None = context.get(RECORDER)
    if isinstance(slot, RequestSlot):
        return recorder.add(name) if recorder else mark_safe(slot.render(context.get("request")))
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return _render_state(context, slot, args, slot.visitor)
    if recorder is None:
        raise ImproperlyConfigured(f"slot {name!r} for a member needs a shell: render the page with render_personal")
    variants = {state: str(_render_state(context, slot, args, state)) for state in slot.states(*args)}
    return recorder.add(name, slot.key(*args), variants)


def _render_state(context: Context, slot: ChoiceSlot, args: tuple, state: str) -> SafeString:
    template = context.template.engine.get_template(slot.template)
    with context.push(**dict(zip(slot.names, args)), state=state, **slot.variables(state)):
        return mark_safe(template.render(context))
