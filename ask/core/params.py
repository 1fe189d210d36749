"""Reading numbers and text out of request parameters the way an outsider sends them.

str.isdigit() accepts "²", "٣" and "１", which int() then refuses (or reads as another number):
`?page=²` was a 500 on every paginated page. Only ASCII digits count here, with a length cap so a
10,000-digit number costs nothing.
"""
import re

ASCII_WHOLE = re.compile(r"[0-9]{1,9}")


def whole_number(raw: str | None, *, signed: bool = False) -> int | None:
    """The number the text is written as (ASCII digits, at most 9), or None."""
    if raw is None:
        return None
    text = raw.strip()
    negative = signed and text.startswith("-")
    digits = text[1:] if negative else text
    if not ASCII_WHOLE.fullmatch(digits):
        return None
    return -int(digits) if negative else int(digits)

