"""Plain text for the alerts' messages: a piece of outside text as one capped line, a message's text safe in
every channel's syntax, and the caps of both."""

from __future__ import annotations

import re

TITLE_PREFIX = "Contingencia"
OUTSIDE_MAX = 120  # characters kept of a piece of outside text: cucu's message, SIAT's description, a name
TITLE_MAX = 200
BODY_MAX = 2000


# Messages carry text from outside (cucu's errors, SIAT's descriptions, inventory names, a sign-in name).
# They go as plain text (see apprise_send), and whatever a channel's own syntax would still read in plain
# text is broken here: Slack's <!channel>, <@user>, <http://x|label> (and Discord's <@id>, <#id>, <t:…>)
# get a look-alike "‹", mass mentions a zero-width space.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # a body keeps \t and \n
_ANGLE_MARKUP = re.compile(r"<(?=[!@#:]|[A-Za-z][A-Za-z0-9+.-]*:)")
_MASS_MENTION = re.compile(r"@(?=(?:everyone|here|channel|all)\b)", re.IGNORECASE)


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def outside(text: object, limit: int = OUTSIDE_MAX) -> str:
    """A piece of outside text as one line of at most ``limit`` characters (no line breaks to fake a
    message's own lines)."""
    return _cap(" ".join(_CONTROL.sub(" ", str(text)).split()), limit)


def plain(text: str, limit: int = BODY_MAX) -> str:
    """A message's text, safe in every channel's syntax, at most ``limit`` characters (idempotent)."""
    text = _MASS_MENTION.sub("@\u200b", _ANGLE_MARKUP.sub("‹", _CONTROL.sub(" ", text)))
    return _cap(text, limit)


def plain_title(text: str) -> str:
    return plain(" ".join(text.split()), TITLE_MAX)
