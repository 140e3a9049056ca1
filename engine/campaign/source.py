"""Stage 1 of the campaign pipeline: YAML text to plain data, with a position for every node.

Campaign files are plain data: duplicate keys, anchors/aliases, custom tags, oversized or
over-nested files are reported as diagnostics, never raised as crashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from engine.diagnostics import Code, Diagnostic, Location, child_pointer

try:  # LibYAML is much faster; its nodes carry marks too.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - wheels ship LibYAML
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: campaign files above this size are refused before parsing
MAX_BYTES = 1_000_000
#: deeper nesting than this is refused (no sane campaign nests this far)
MAX_DEPTH = 40

_CONSTRUCTOR = SafeConstructor()
#: the scalar tags a campaign may use, read as PyYAML's safe loader reads them
_SCALARS: dict[str, Callable[[yaml.ScalarNode], Any]] = {
    "tag:yaml.org,2002:str": _CONSTRUCTOR.construct_yaml_str,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
    # dates stay text: the schema checks their format and the compiler parses them
    "tag:yaml.org,2002:timestamp": _CONSTRUCTOR.construct_yaml_str,
}


#: hex digits of a campaign's hash kept in the compiled ``Campaign.version`` (sent to browsers)
SHORT_HASH_LENGTH = 16


def source_hash(text: str) -> str:
    """SHA-256 of a campaign text: the one identity of a campaign version. Stored whole in
    ``CampaignVersion.version``; the compiled campaign carries its :func:`short_hash`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def short_hash(digest: str) -> str:
    """The prefix of a :func:`source_hash` that a compiled campaign carries as its version."""
    return digest[:SHORT_HASH_LENGTH]


@dataclass(frozen=True, slots=True)
class Mark:
    """1-based position of a node, and its scalar style ('' plain, '"' or "'" quoted, '|' '>')."""

    line: int
    column: int
    style: str = ""


@dataclass(slots=True)
class Source:
    """A campaign file read into plain data, with marks addressed by JSON pointer."""

    name: str
    text: str
    data: Any = None
    value_marks: dict[str, Mark] = field(default_factory=dict)
    key_marks: dict[str, Mark] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    base_dir: Path | None = None
    #: pointers of values refused while reading (tag, alias, depth): they stand as null
    refused: set[str] = field(default_factory=set)

    @property
    def digest(self) -> str:
        """The compiled campaign's ``version``: :func:`short_hash` of the text."""
        return short_hash(source_hash(self.text))

    def location(self, pointer: str, *, key: bool = False) -> Location:
        """Location of the node at ``pointer`` (its key when ``key``), or of its nearest parent."""
        marks = self.key_marks if key else self.value_marks
        probe = pointer
        while True:
            mark = marks.get(probe) or self.value_marks.get(probe)
            if mark is not None:
                return Location(self.name, mark.line, mark.column, pointer)
            if not probe:
                return Location(self.name, 1, 1, pointer)
            probe = probe.rsplit("/", 1)[0]

    def mark(self, pointer: str) -> Mark | None:
        return self.value_marks.get(pointer)


def load_source(path: str | Path, *, name: str | None = None) -> Source:
    """Read a campaign file from disk; unreadable files become diagnostics."""
    path = Path(path)
    display = name or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            src = Source(display, "", base_dir=path.parent)
            src.diagnostics.append(_diag(src, Code.YAML_004, size=size, limit=MAX_BYTES))
            return src
        raw = path.read_bytes()
    except OSError as exc:
        src = Source(display, "")
        src.diagnostics.append(_diag(src, Code.YAML_008, problem=exc.strerror or str(exc)))
        return src
    return parse_source(raw, name=display, base_dir=path.parent)


def parse_source(raw: bytes | str, *, name: str = "<string>", base_dir: Path | None = None) -> Source:
    """Parse YAML bytes or text into a :class:`Source` (data is None when it cannot be read)."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            src = Source(name, "", base_dir=base_dir)
            src.diagnostics.append(_diag(src, Code.YAML_004, size=len(raw), limit=MAX_BYTES))
            return src
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            src = Source(name, "", base_dir=base_dir)
            line = raw[: exc.start].count(b"\n") + 1
            src.diagnostics.append(
                Diagnostic(Code.YAML_006, Code.YAML_006.format(problem=exc.reason),
                           Location(name, line, 1, ""))
            )
            return src
    else:
        text = raw
    src = Source(name, text, base_dir=base_dir)
    if len(text.encode("utf-8")) > MAX_BYTES:
        src.diagnostics.append(_diag(src, Code.YAML_004, size=len(text), limit=MAX_BYTES))
        return src
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = _yaml_problem(exc, text[mark.index:mark.index + 1] if mark else "")
        loc = Location(name, mark.line + 1 if mark else 1, mark.column + 1 if mark else 1, "")
        src.diagnostics.append(Diagnostic(Code.YAML_001, Code.YAML_001.format(problem=problem), loc))
        return src
    except yaml.YAMLError as exc:
        src.diagnostics.append(_diag(src, Code.YAML_001, problem=str(exc)))
        return src
    except RecursionError:
        src.diagnostics.append(_diag(src, Code.YAML_009, limit=MAX_DEPTH))
        return src
    if root is None:
        src.diagnostics.append(_diag(src, Code.YAML_007))
        return src
    builder = _Builder(src)
    data = builder.build(root, "", 0)
    if not isinstance(data, Mapping) and not any(d.is_error for d in src.diagnostics):
        src.diagnostics.append(_diag(src, Code.YAML_007))
        return src
    src.data = data
    return src


def _diag(src: Source, code: Code, pointer: str = "", **ctx: object) -> Diagnostic:
    return Diagnostic(code, code.format(**ctx), src.location(pointer))


class _Builder:
    """Walks the composed node tree: builds plain data, records marks, rejects what is unsafe."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.seen: set[int] = set()

    def _mark(self, node: yaml.Node) -> Mark:
        style = getattr(node, "style", None) or ""
        return Mark(node.start_mark.line + 1, node.start_mark.column + 1, style)

    def _error(self, code: Code, node: yaml.Node, pointer: str, **ctx: object) -> None:
        m = self._mark(node)
        self.src.diagnostics.append(
            Diagnostic(code, code.format(**ctx), Location(self.src.name, m.line, m.column, pointer))
        )

    def build(self, node: yaml.Node, pointer: str, depth: int) -> Any:
        if id(node) in self.seen:
            # the composer hands back the anchored node for an alias: refuse instead of expanding,
            # and point at the key that used the alias rather than at the anchor
            mark = self.src.key_marks.get(pointer) or self._mark(node)
            self.src.diagnostics.append(Diagnostic(
                Code.YAML_005, Code.YAML_005.format(),
                Location(self.src.name, mark.line, mark.column, pointer)))
            self.src.refused.add(pointer)
            return None
        self.seen.add(id(node))
        if depth > MAX_DEPTH:
            self._error(Code.YAML_009, node, pointer, limit=MAX_DEPTH)
            self.src.refused.add(pointer)
            return None
        self.src.value_marks[pointer] = self._mark(node)
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                self._error(Code.YAML_003, node, pointer, tag=node.tag)
                self.src.refused.add(pointer)
                return None
            out: dict[str, Any] = {}
            first_line: dict[str, int] = {}
            #: the last plain text value of a {…} mapping: (its key, its node, where it ends)
            last: tuple[str, yaml.ScalarNode, int] | None = None
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    self._error(Code.YAML_003, key_node, pointer, tag=key_node.tag)
                    continue
                key = str(key_node.value)
                if last is not None and node.flow_style and self._keyless(key_node, value_node):
                    last = self._rejoin(out, pointer, last, key_node)
                    continue
                last = None
                if node.flow_style and isinstance(value_node, yaml.ScalarNode) and \
                        not value_node.style and value_node.tag == "tag:yaml.org,2002:str":
                    last = (key, value_node, value_node.end_mark.index)
                child = child_pointer(pointer, key)
                if key in out or key in first_line:
                    self._error(Code.YAML_002, key_node, child, key=key, line=first_line[key])
                    continue
                first_line[key] = key_node.start_mark.line + 1
                self.src.key_marks[child] = self._mark(key_node)
                out[key] = self.build(value_node, child, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self._error(Code.YAML_003, node, pointer, tag=node.tag)
                self.src.refused.add(pointer)
                return None
            return [self.build(item, child_pointer(pointer, i), depth + 1)
                    for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        construct = _SCALARS.get(node.tag)
        if construct is None:
            self._error(Code.YAML_003, node, pointer, tag=node.tag)
            self.src.refused.add(pointer)
            return None
        try:
            return construct(node)
        except (ValueError, LookupError):  # an explicit tag on a value not of its kind (!!int x)
            self._error(Code.YAML_001, node, pointer,
                        problem=f"'{node.value}' is not a valid {_short(node.tag)}")
            self.src.refused.add(pointer)
            return None


    def _keyless(self, key_node: yaml.ScalarNode, value_node: yaml.Node) -> bool:
        """Whether a {…} entry is a bare word with no ``:`` (``{a: x, y}``): what a comma in
        an unquoted value leaves behind."""
        return isinstance(value_node, yaml.ScalarNode) and value_node.tag == \
            "tag:yaml.org,2002:null" and value_node.value == "" and \
            not self.src.text[key_node.end_mark.index:].lstrip(" \t").startswith(":")

    def _rejoin(self, out: dict[str, Any], pointer: str, last: tuple[str, yaml.ScalarNode, int],
                key_node: yaml.ScalarNode) -> tuple[str, yaml.ScalarNode, int]:
        """Report a value cut by a comma, and keep it whole so nothing else is reported."""
        key, value_node, end = last
        text = self.src.text
        start = value_node.start_mark.index
        whole = text[start:key_node.end_mark.index]
        self._error(Code.YAML_010, value_node, child_pointer(pointer, key), text=whole,
                    first=text[start:end], rest=key_node.value, key=key)
        out[key] = whole
        return key, value_node, end


#: PyYAML's problems in the author's words, each with what to do
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "a ': ' inside an unquoted text starts a new key here; "
     "put the text in quotes (\"…\")"),
    ("did not find expected key", "this line is not indented like the keys above it; align it "
     "with them"),
    ("did not find expected ',' or '}'", "the keys between { and } are not closed, or a value "
     "in them holds ': ' or '{'; close the brace, or put the value in quotes"),
    ("did not find expected ',' or ']'", "the list between [ and ] is not closed, or an item "
     "holds ': '; close the bracket, or put the item in quotes"),
    ("found unexpected end of stream", "the file ends inside a quoted text, or inside an "
     "unclosed [ or {; close it"),
    ("found unknown escape character", "a backslash inside \"…\" starts an escape; write the "
     "text between single quotes '…'"),
    ("did not find expected '-' indicator", "a list item ('- ') stands among keys at the same "
     "indentation; indent the list under its key"),
    ("expected <block end>", "this line's indentation does not match the lines above; align it"),
    ("could not find expected ':'", "a key has no ':' after it, or a text goes on over several "
     "lines without quotes; add the ':' or put the text in quotes"),
    ("found undefined alias", "'*' starts an alias; put the text in quotes"),
    ("found undefined tag handle", "'!' starts a tag; put the text in quotes"),
    ("found a tab character", "a tab is used for indentation; indent with spaces"),
)


def _yaml_problem(exc: yaml.MarkedYAMLError, char: str) -> str:
    """What went wrong, said without the YAML library's words (mapping, scalar, flow…)."""
    problem = exc.problem or exc.context or "invalid YAML"
    if "cannot start any token" in problem:
        if char == "\t":
            return "a tab is used for indentation; indent with spaces"
        return f"a value cannot start with '{char}' unless it is in quotes; put it in quotes"
    for known, words in _YAML_PROBLEMS:
        if known in problem:
            return words
    if exc.context and "quoted scalar" in exc.context:
        return "a quoted text is not closed; close the quote"
    for word, plain in (("scalar", "value"), ("mapping", "group of keys"), ("sequence", "list"),
                        ("flow", "{…} or […]")):
        problem = problem.replace(word, plain)
    return f"{problem}; fix the indentation or the quoting"


def _short(tag: str) -> str:
    """``!!int`` for ``tag:yaml.org,2002:int``, as the author wrote it."""
    return tag.replace("tag:yaml.org,2002:", "!!")

