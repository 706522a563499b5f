"""HTML and CSS colours as the reference renderer reads them, for the low-contrast checks.

Every notation a browser accepts becomes `#rrggbb`; a value no browser agrees on becomes
INVALID_COLOR, and two invalid colours compare equal.
"""

from __future__ import annotations

import re

__all__ = ["INVALID_COLOR", "color_to_rgb"]

# Result for a value no browser agrees on; two invalid colours compare equal (low contrast).
INVALID_COLOR = "invalid"

# The CSS Color Module Level 3 keyword table (W3C), which includes the 16 HTML 4 names.
_CSS3_COLORS = """
aliceblue f0f8ff antiquewhite faebd7 aqua 00ffff aquamarine 7fffd4 azure f0ffff beige f5f5dc
bisque ffe4c4 black 000000 blanchedalmond ffebcd blue 0000ff blueviolet 8a2be2 brown a52a2a
burlywood deb887 cadetblue 5f9ea0 chartreuse 7fff00 chocolate d2691e coral ff7f50
cornflowerblue 6495ed cornsilk fff8dc crimson dc143c cyan 00ffff darkblue 00008b
darkcyan 008b8b darkgoldenrod b8860b darkgray a9a9a9 darkgreen 006400 darkgrey a9a9a9
darkkhaki bdb76b darkmagenta 8b008b darkolivegreen 556b2f darkorange ff8c00 darkorchid 9932cc
darkred 8b0000 darksalmon e9967a darkseagreen 8fbc8f darkslateblue 483d8b darkslategray 2f4f4f
darkslategrey 2f4f4f darkturquoise 00ced1 darkviolet 9400d3 deeppink ff1493 deepskyblue 00bfff
dimgray 696969 dimgrey 696969 dodgerblue 1e90ff firebrick b22222 floralwhite fffaf0
forestgreen 228b22 fuchsia ff00ff gainsboro dcdcdc ghostwhite f8f8ff gold ffd700
goldenrod daa520 gray 808080 green 008000 greenyellow adff2f grey 808080 honeydew f0fff0
hotpink ff69b4 indianred cd5c5c indigo 4b0082 ivory fffff0 khaki f0e68c lavender e6e6fa
lavenderblush fff0f5 lawngreen 7cfc00 lemonchiffon fffacd lightblue add8e6 lightcoral f08080
lightcyan e0ffff lightgoldenrodyellow fafad2 lightgray d3d3d3 lightgreen 90ee90
lightgrey d3d3d3 lightpink ffb6c1 lightsalmon ffa07a lightseagreen 20b2aa lightskyblue 87cefa
lightslategray 778899 lightslategrey 778899 lightsteelblue b0c4de lightyellow ffffe0
lime 00ff00 limegreen 32cd32 linen faf0e6 magenta ff00ff maroon 800000 mediumaquamarine 66cdaa
mediumblue 0000cd mediumorchid ba55d3 mediumpurple 9370db mediumseagreen 3cb371
mediumslateblue 7b68ee mediumspringgreen 00fa9a mediumturquoise 48d1cc mediumvioletred c71585
midnightblue 191970 mintcream f5fffa mistyrose ffe4e1 moccasin ffe4b5 navajowhite ffdead
navy 000080 oldlace fdf5e6 olive 808000 olivedrab 6b8e23 orange ffa500 orangered ff4500
orchid da70d6 palegoldenrod eee8aa palegreen 98fb98 paleturquoise afeeee palevioletred db7093
papayawhip ffefd5 peachpuff ffdab9 peru cd853f pink ffc0cb plum dda0dd powderblue b0e0e6
purple 800080 red ff0000 rosybrown bc8f8f royalblue 4169e1 saddlebrown 8b4513 salmon fa8072
sandybrown f4a460 seagreen 2e8b57 seashell fff5ee sienna a0522d silver c0c0c0 skyblue 87ceeb
slateblue 6a5acd slategray 708090 slategrey 708090 snow fffafa springgreen 00ff7f
steelblue 4682b4 tan d2b48c teal 008080 thistle d8bfd8 tomato ff6347 turquoise 40e0d0
violet ee82ee wheat f5deb3 white ffffff whitesmoke f5f5f5 yellow ffff00 yellowgreen 9acd32
"""
_words = _CSS3_COLORS.split()
NAMED_COLORS: dict[str, str] = {_words[i]: "#" + _words[i + 1] for i in range(0, len(_words), 2)}
del _words

_COLORISH_RE = re.compile(r"^[#a-f0-9]*$|rgb\([\d%, ]*\)", re.IGNORECASE)
_RGB_PERCENT_RE = re.compile(r"rgb\((\d+)%,\s*(\d+)%,\s*(\d+)%\s*\)", re.IGNORECASE)
_RGB_DECIMAL_RE = re.compile(r"rgb\((\d+),\s*(\d+),\s*(\d+)\s*\)", re.IGNORECASE)
_NOT_HEX_RE = re.compile(r"[^a-fA-F0-9]")
# Perl's \s, which is what the leading/trailing trim in the reference uses.
_EDGE_SPACE_RE = re.compile(r"^[\t\n\x0b\f\r ]+|[\t\n\x0b\f\r ]+$")


def _hex_component(value: int) -> str:
    """Two hex digits at least, more if the value overflows a byte (kept, then truncated)."""
    return format(value, "02x")


def color_to_rgb(value: str) -> str:
    """Normalise an HTML/CSS colour to ``#rrggbb``, or :data:`INVALID_COLOR`.

    Mirrors what mail clients accepted: names, ``#hex`` (3 or 6 digits, longer values cut,
    short ones padded) and ``rgb()`` in numbers or percentages.  Bare hex without ``#`` is
    invalid; an empty ``#`` yields ``#``.
    """
    color = _EDGE_SPACE_RE.sub("", value.lower())
    named = NAMED_COLORS.get(color)
    if named is not None:
        return named
    if not _COLORISH_RE.search(color):
        return INVALID_COLOR
    m = _RGB_PERCENT_RE.search(color)
    if m:
        color = "#" + "".join(_hex_component(int(int(g) / 100 * 255)) for g in m.groups())
    m = _RGB_DECIMAL_RE.search(color)
    if m:
        color = "#" + "".join(_hex_component(int(g)) for g in m.groups())
    if not color.startswith("#"):
        return INVALID_COLOR
    color = _NOT_HEX_RE.sub("", color)
    if len(color) > 6:
        color = color[:6]
    if 3 < len(color) < 6:
        color = color[:3]
    if len(color) % 3:
        color += "0" * (3 - len(color) % 3)
    if len(color) == 3:
        color = color[0] * 2 + color[1] * 2 + color[2] * 2
    return "#" + color


def _css_background_layers(value: str) -> list[list[str]]:
    """Split a CSS ``background`` value into comma-separated layers of space-separated tokens.

    Parentheses and quotes protect their content (``rgb(1, 2, 3)`` is one token), which a plain
    split would not.  Only the last layer can carry a colour.
    """
    layers: list[list[str]] = []
    tokens: list[str] = []
    token: list[str] = []
    stack: list[str] = []  # open delimiters: "(", '"' or "'"
    for ch in value:
        if not stack:
            if ch == " ":
                if token:
                    tokens.append("".join(token))
                    token = []
            elif ch == ",":
                if token:
                    tokens.append("".join(token))
                    token = []
                layers.append(tokens)
                tokens = []
            else:
                token.append(ch)
                if ch in "(\"'":
                    stack.append(ch)
        else:
            token.append(ch)
            top = stack[-1]
            if top == "(":
                if ch == ")":
                    tokens.append("".join(token))
                    token = []
                    stack.pop()
                elif ch in "\"'":
                    stack.append(ch)
            elif ch == top:
                stack.pop()
    if token:
        tokens.append("".join(token))
    if tokens:
        layers.append(tokens)
    return layers
