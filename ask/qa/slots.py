"""A member's own bits of the Q&A pages, as slots of shared shells (ask.core.shells): their vote on
each post, the controls of their own posts or their flag on others', following the question or tag,
marking an answer as correct on their own question.

Every slot's key carries the post's author, so "own post" needs no query; what a member voted,
flagged and follows is read for the whole page in one query (facts group "qa").
"""
from django.db import connection

from ask.core.shells import ChoiceSlot, register_facts, register_slot
from ask.qa.models import AnswerVote, Flag, FlagReason, QuestionFollow, QuestionVote, TagFollow

VOTE_STATES = {"1": "up", "-1": "down"}  # the facts query reads every value as text


def _post_key(kind: str, post) -> tuple:
    return (kind, post.pk, post.author_id)


def _vote_state(user, fact, key: tuple) -> str:
    return "own" if user.pk == key[2] else VOTE_STATES.get(fact, "none")


def _controls_state(user, fact, key: tuple) -> str:
    return "own" if user.pk == key[2] else fact or "other"


def _controls_variables(state: str) -> dict:
    return {"my_flag": FlagReason(state).label} if state in FlagReason.values else {}


def _follow_state(user, fact, key: tuple) -> str:
    return "own" if user.pk == key[1] else "following" if fact else "not"


SLOTS = {
    "vote": ChoiceSlot("ask/vote.html", ("kind", "target"), _post_key,
                       lambda kind, post: ("own", "up", "down", "none"), _vote_state, facts="qa"),
    "post_controls": ChoiceSlot("ask/post_controls.html", ("kind", "post"), _post_key,
                                lambda kind, post: ("own", "other", *FlagReason.values), _controls_state,
                                facts="qa", variables=_controls_variables),
    "question_follow": ChoiceSlot("ask/question_follow.html", ("question",),
                                  lambda question: (question.pk, question.author_id),
                                  lambda question: ("own", "following", "not"), _follow_state, facts="qa"),
    "tag_follow": ChoiceSlot("ask/tag_follow.html", ("tag",), lambda tag: (tag.pk,),
                             lambda tag: ("following", "not"),
                             lambda user, fact, key: "following" if fact else "not", facts="qa"),
    "accept": ChoiceSlot("ask/accept.html", ("answer", "question"),
                         lambda answer, question: (answer.pk, question.author_id),
                         lambda answer, question: ("asker", "not"),
                         lambda user, fact, key: "asker" if user.pk == key[1] else "not", visitor="not"),
}

# (slot, part of its key the fact is about) -> table, its id column, what is read
_SOURCES = {
    ("vote", "question"): (QuestionVote, "question_id", "value"),
    ("vote", "answer"): (AnswerVote, "answer_id", "value"),
    ("post_controls", "question"): (Flag, "question_id", "reason"),
    ("post_controls", "answer"): (Flag, "answer_id", "reason"),
    ("question_follow", None): (QuestionFollow, "question_id", "NULL"),
    ("tag_follow", None): (TagFollow, "tag_id", "NULL"),
}


def member_facts(user, keys: list[tuple[str, tuple]]) -> dict:
    """{(slot, key): fact} for this member on one page, in one query: their vote (1 or -1), their
    flag's reason, or True for a follow; absent where there is none."""
    wanted: dict[tuple[str, str | None], dict[int, tuple]] = {}
    for name, key in keys:
        source = (name, key[0]) if name in ("vote", "post_controls") else (name, None)
        if source in _SOURCES:
            wanted.setdefault(source, {})[key[1] if source[1] else key[0]] = key
    selects, params = [], []
    for number, ((name, kind), ids) in enumerate(wanted.items()):
        model, column, value = _SOURCES[(name, kind)]
        marks = ", ".join(["%s"] * len(ids))
        selects.append(f"SELECT {number}, {column}, CAST({value} AS TEXT) FROM {model._meta.db_table} "
                       f"WHERE user_id = %s AND {column} IN ({marks})")
        params += [user.pk, *ids]
    if not selects:
        return {}
    sources = list(wanted.items())
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        rows = cursor.fetchall()
    facts = {}
    for number, row_id, value in rows:
        (name, _), ids = sources[number]
        facts[(name, ids[row_id])] = True if value is None else value
    return facts


def register() -> None:
    for name, slot in SLOTS.items():
        register_slot(name, slot)
    register_facts("qa", member_facts)
