"""The parsed message model: plain data, no parsing and no rendering.

Shaped after Python's `email` package: `mime.parse()` builds these objects, other modules
(`headers`, `body`, ...) compute views from them. Everything a rule can match is bytes, so the
model keeps bytes exactly as SpamAssassin 4.0.1 keeps them after its own (documented) light
rewriting: CRLF squashing, header unfolding for the decoded views, and so on.

Views are computed at most once per message: each is stored in `Message.cache` (or a slot of
`Header`/`Part`) by the module that computes it, so this module stays free of that logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Defect", "Header", "Message", "Part"]


@dataclass(eq=False)
class Defect(ValueError):
    """A broken but survivable message; recorded so rules can score it, never raised.

    `kind` uses SpamAssassin's parse-flag names where one exists (`missing_head_body_separator`,
    `missing_mime_headers`, `mime_epilogue_exists`, ...), so `check_msg_parse_flags(NAME)` is a
    lookup. `nested` marks a defect found while parsing an embedded message/rfc822: SpamAssassin
    stores those on the inner message object, where that eval never looks.
    """

    kind: str
    detail: str = ""
    nested: bool = False

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


@dataclass(eq=False, slots=True)
class Header:
    """One header field as stored: the name as written and the raw value after the colon.

    For the top-level message (and embedded messages) `raw` keeps the leading whitespace, the
    folding and the final newline (CRLF squashed to LF in CRLF messages); inside a multipart body
    SpamAssassin strips the whitespace after the colon, so `raw` starts at the first non-blank.
    `name` is the field name decoded as Latin-1, so every byte survives the round trip.
    """

    name: str
    raw: bytes
    decoded: bytes | None = field(default=None, repr=False)  # cache filled by headers.py
    # Lower-case name: SpamAssassin looks header names up case-insensitively.
    key: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.key = self.name.lower()


@dataclass(eq=False, slots=True)
class Part:
    """A node of the MIME tree; the top-level message is the root node.

    `content_type` is SpamAssassin's simplified type (`text/plain` for a missing or garbled
    Content-Type, every `text/*` except html/calendar/x-vcard mapped to `text/plain`; it may be
    empty when the value was all punctuation). `children` is None for a leaf: a multipart with
    no body lines still gets an empty list and so is not a leaf, exactly as in SpamAssassin.
    `is_message` marks the root of an embedded message/rfc822 (its headers are the inner
    message's header fields). `body` holds a leaf's raw, still transfer-encoded content.
    """

    headers: list[Header]
    content_type: str = "text/plain"
    boundary: bytes | None = None
    charset: str | None = None
    filename: str | None = None
    body: bytes | None = None
    children: list[Part] | None = None
    is_message: bool = False
    depth: int = 0
    cache: dict[str, object] = field(default_factory=dict, repr=False)
    _by_key: dict[str, list[Header]] | None = field(default=None, repr=False)

    @property
    def is_leaf(self) -> bool:
        """True for a part without children (SpamAssassin's `is_leaf`)."""
        return self.children is None

    def get_all(self, name: str) -> list[Header]:
        """Every instance of a header, in message order (name is case-insensitive)."""
        if self._by_key is None:
            index: dict[str, list[Header]] = {}
            for header in self.headers:
                index.setdefault(header.key, []).append(header)
            self._by_key = index
        return self._by_key.get(name.lower(), [])

    def walk(self) -> list[Part]:
        """This node and all below it, depth-first in tree order, without recursion.

        Iterative so that a hostile nesting depth can never hit Python's recursion limit.
        """
        out: list[Part] = []
        stack: list[Part] = [self]
        while stack:
            node = stack.pop()
            out.append(node)
            if node.children:
                stack.extend(reversed(node.children))
        return out


@dataclass(eq=False)
class Message:
    """A parsed message: the MIME tree plus the pristine bytes `full` rules need.

    `mbox_from` is the mbox `From ` separator line that was split off (not part of pristine).
    `pristine_headers` includes the blank separator line when there was one.
    `boundary_state` mirrors SpamAssassin's balance of opening/closing MIME boundaries: any
    non-zero value means a boundary was opened and not closed (or closed without opening).
    """

    root: Part
    pristine_headers: bytes = b""
    pristine_body: bytes = b""
    mbox_from: bytes | None = None
    line_ending: bytes = b"\n"
    defects: list[Defect] = field(default_factory=list)
    boundary_state: dict[bytes, int] = field(default_factory=dict)
    cache: dict[str, object] = field(default_factory=dict, repr=False)

    @property
    def headers(self) -> list[Header]:
        """The top-level header fields, in message order, X-Spam-* included."""
        return self.root.headers

    @property
    def parse_flags(self) -> frozenset[str]:
        """The flags SpamAssassin's `check_msg_parse_flags` eval can see on the message."""
        return frozenset(d.kind for d in self.defects if not d.nested)

    def parts(self) -> list[Part]:
        """Every MIME node in tree order, containers included (`find_parts(qr/./)` order)."""
        return [p for p in self.root.walk() if p.content_type]

    def leaves(self) -> list[Part]:
        """The leaf parts in tree order (`find_parts(qr/./, 1)`); empty-typed parts excluded."""
        return [p for p in self.root.walk() if p.children is None and p.content_type]
