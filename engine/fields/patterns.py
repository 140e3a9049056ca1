"""Campaign regular expressions (``pattern:``): matched by RE2 on the server, in time linear in
the text whatever the pattern (``^(a+)+$`` on 5,000 characters answers at once), and kept to the
syntax that JavaScript's ``RegExp`` with the ``u`` flag reads the same way, so the browser twin
(rules.js) accepts and refuses the same answers.

RE2 has no backreferences nor lookarounds (they cannot run in linear time): such a pattern is a
load error. Constructs RE2 accepts but JavaScript reads otherwise (inline flags, named groups,
POSIX classes, ``\\A``, ``\\Q…\\E``, a lone ``{``…) are load errors too, each with the way to
write it portably.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

import re2

#: escapes read the same by RE2 and by JavaScript (u flag), outside and inside [...]
_CLASS_ESCAPES: Final = frozenset("dDwWsSnrtfv")
_SYNTAX: Final = frozenset("^$\\.*+?()[]{}|/")
#: Unicode general categories both engines know, for \p{…} and \P{…}
_CATEGORIES: Final = frozenset(
    "L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp "
    "C Cc Cf Co".split())
_QUANTIFIER: Final = re.compile(r"\{\d+(,\d*)?\}")
_PROPERTY: Final = re.compile(r"[pP]\{([A-Za-z]+)\}")
_OPTIONS: Final = re2.Options()
_OPTIONS.log_errors = False  # the error is reported as a diagnostic, not on stderr


class PatternError(ValueError):
    """A campaign pattern that cannot be used: the message says where and how to write it."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled campaign pattern; ``pattern`` is its source, as for ``re.Pattern``."""

    pattern: str
    _compiled: Any = field(repr=False, compare=False)

    def fullmatch(self, text: str) -> bool:
        """True when the whole of ``text`` matches (in time linear in ``len(text)``)."""
        return self._compiled.fullmatch(text) is not None


def compile_pattern(source: str) -> Pattern:
    """``source`` compiled by RE2, once checked to read the same in JavaScript.

    :raises PatternError: not portable, or not compilable by RE2 (backreference, lookaround,
        invalid syntax, too large).
    """
    _check_portable(source)
    try:
        compiled = re2.compile(source, options=_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(
            exc.args[0], bytes) else str(exc)
        raise PatternError(
            f"the pattern is not supported ({detail}): patterns run on a linear-time engine "
            "(RE2), without backreferences (\\1) nor lookarounds ((?=…), (?!…), (?<=…)); "
            "describe the accepted text directly, e.g. [A-Z]{2}[0-9]{3}") from None
    return Pattern(source, compiled)


def _refuse(source: str, at: int, what: str, hint: str) -> PatternError:
    return PatternError(f"{what} at character {at + 1} of the pattern {source!r} is not read the "
                        f"same way by the browser (JavaScript): {hint}")


def _check_portable(source: str) -> None:
    """Refuse what RE2 and JavaScript's RegExp (u flag) would read differently."""
    i, in_class, class_start = 0, False, -1
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i = _escape(source, i, in_class)
            continue
        if in_class:
            if ch == "]" and i > class_start:
                in_class = False
            elif ch == "]" or ch == "[":
                raise _refuse(source, i, f"'{ch}' inside [...]", f"write \\{ch}")
        elif ch == "[":
            in_class = True
            class_start = i + (2 if source.startswith("^", i + 1) else 1)
        elif ch == "(" and source.startswith("?", i + 1) and not source.startswith(":", i + 2):
            raise _refuse(source, i, f"'{source[i:i + 3]}'",
                          "only (?:…) groups are allowed: no inline flags, named groups or "
                          "lookarounds")
        elif ch == "{":
            quantifier = _QUANTIFIER.match(source, i)
            if quantifier is None:
                raise _refuse(source, i, "'{'", "write \\{ for a literal brace")
            i = quantifier.end()
            continue
        elif ch in "}]":
            raise _refuse(source, i, f"'{ch}'", f"write \\{ch} for a literal '{ch}'")
        i += 1


def _escape(source: str, i: int, in_class: bool) -> int:
    """The index after the escape at ``i``, or :class:`PatternError`."""
    nxt = source[i + 1:i + 2]
    if nxt in _CLASS_ESCAPES or not in_class and nxt in "bB" and nxt:
        return i + 2
    if nxt and (nxt in _SYNTAX or in_class and nxt == "-"):
        return i + 2
    if nxt == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", source[i + 2:i + 4]):
        return i + 4
    prop = _PROPERTY.match(source, i + 1)
    if prop is not None and prop[1] in _CATEGORIES:
        return prop.end()
    if nxt in ("p", "P"):
        hint = "use a general category in braces, e.g. \\p{L} (letters) or \\p{Lu}"
    elif nxt.isdigit():
        hint = "backreferences and octal escapes are not supported"
    elif nxt == "x":
        hint = "write \\x with exactly two hexadecimal digits, e.g. \\xE9"
    elif nxt == "-":
        hint = "write - without a backslash outside [...]"
    else:
        hint = ("escape only ^ $ \\ . * + ? ( ) [ ] { } | / (and - inside [...]); other escapes "
                "are \\d \\w \\s \\b \\n \\r \\t \\f \\v \\xHH \\p{…}; type letters such as é as they are")
    raise _refuse(source, i, f"'\\{nxt}'", hint)
