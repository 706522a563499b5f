"""HTML rendering and the HTML facts, on small hand-written documents."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spamkiln.runtime.html import parse_html
from spamkiln.runtime.html_colors import INVALID_COLOR, color_to_rgb
from spamkiln.runtime.relative_uri import target_uri

RENDERING = [
    # block tags: <br>/<div> a newline, cells and items a space, paragraphs a blank line
    ("one<br>two", "one\ntwo"),
    ("one<div>two</div>three", "one\ntwo\nthree"),
    ("<td>a</td><td>b</td>", " a  b "),
    ("<p>para one</p><p>para two</p>", "\n\npara one\n\n\n\npara two\n\n"),
    ("<ul><li>x<li>y</ul>", " x y"),
    ("<h1>Big</h1>text", " Big text"),
    # whitespace runs collapse; the space before a break is dropped
    ("a  \n\t b <br> c", "a b\nc"),
    # entities, including the reference's particular rules
    ("caf&eacute; &amp; bar &lt;b&gt;", "café & bar <b>"),
    ("&copy2 &ampx &hellip &hellip;", "©2 &x &hellip …"),
    ("&#65;&#x42;&#67 &#0; &#149;", "ABC &#0; \x95"),
    ("a&nbsp;&nbsp;b", "a b"),
    # script and style text is not rendered; title text is
    ("<script>var x='<b>';</script>after", "after"),
    ("<style>p {color: red}</style>shown", "shown"),
    ("<title>Hello &amp; bye</title>body", "\n\nHello & bye\n\nbody"),
    # iframe/xmp content is raw text, not markup
    ("<iframe><b>x&amp;y</b></iframe>", "<b>x&amp;y</b>"),
    # comments, declarations and processing instructions render nothing
    ("a<!-- hidden -->b<!DOCTYPE html><?xml x?>c", "abc"),
    # a "<" that opens no markup is text
    ("1 < 2 and 3 <> 4", "1 < 2 and 3 <> 4"),
    # <br/> is <br>
    ("a<br/>b<br />c", "a\nb\nc"),
    # curly quotes in attributes do not break parsing
    ("<a href=\u201dhttp://x.example.com/\u201d>go</a>", "go"),
    # unclosed comment ends at the next ">"
    ("a<!--note> b", "a b"),
    # "</ p>" is a comment, not an end tag
    ("x</ p>y", "xy"),
]


@pytest.mark.parametrize(("html", "expected"), RENDERING)
def test_rendering(html: str, expected: str) -> None:
    assert parse_html(html).rendered == expected


def test_invisible_text_is_rendered_but_split_out() -> None:
    doc = parse_html(
        '<body bgcolor="#ffffff">seen <font color="#ffffff">hidden</font> '
        '<span style="display:none">gone</span><font size=1>tiny</font></body>'
    )
    assert doc.rendered == "seen hidden gonetiny"
    assert doc.visible == "seen  "
    assert doc.invisible == "hiddengonetiny"
    assert doc.font_low_contrast


@pytest.mark.parametrize(
    ("html", "low_contrast", "invalid"),
    [
        ('<font color="#fefefe">almost white</font>', True, False),
        ('<font color="#777777">grey</font>', False, False),
        ('<font color="ffffff">bare hex</font>', False, True),
        ('<p style="color: rgb(250,250,250)">css rgb</p>', True, False),
        ('<div style="background: url(x.png) #000000">black on black</div>', True, False),
        ('<div style="color:#000; background-color: black !important">x</div>', True, False),
    ],
)
def test_contrast_checks(html: str, low_contrast: bool, invalid: bool) -> None:
    doc = parse_html(html)
    assert doc.font_low_contrast is low_contrast
    assert doc.font_invalid_color is invalid


COLORS = [
    ("red", "#ff0000"),
    (" White ", "#ffffff"),
    ("#abc", "#aabbcc"),
    ("#abcd", "#aabbcc"),
    ("#1234567", "#123456"),
    ("#12", "#112200"),
    ("rgb(255, 0, 128)", "#ff0080"),
    ("rgb(100%,0%,50%)", "#ff007f"),
    ("ffffff", INVALID_COLOR),
    ("nosuchcolor", INVALID_COLOR),
    ("#", "#"),
]


@pytest.mark.parametrize(("value", "expected"), COLORS)
def test_color_to_rgb(value: str, expected: str) -> None:
    assert color_to_rgb(value) == expected


def test_tag_balance_and_ratios() -> None:
    doc = parse_html("<html><body><b>x</b></i></p><foo>y</foo></body></body>")
    assert doc.inside == {"html": 1, "body": 0, "b": 0, "i": 0, "p": 0, "foo": 0}
    # 10 tag events, 3 closes without an open; "foo" is no HTML element
    assert doc.tags == 10
    assert doc.closed_extra_ratio == pytest.approx(3 / 10)
    assert doc.bad_tag_ratio == pytest.approx(2 / 10)
    assert doc.non_element_ratio == pytest.approx(1 / 6)
    assert doc.result("html") == 1


def test_office_namespace_tags_count_as_elements() -> None:
    doc = parse_html("<o:p>x</o:p><st1:place>y</st1:place>")
    assert doc.bad_tag_ratio == 0
    assert doc.inside["o:p"] == 0


def test_obfuscation_and_backhair() -> None:
    doc = parse_html("Vi<b></b>agra and fr<i>ee</i> stuff")
    assert doc.obfuscation_ratio == pytest.approx(2 / 4)
    assert doc.backhair_count == 2


def test_font_sizes() -> None:
    doc = parse_html('<font size="+4">huge</font><font size=1>s</font><small>x</small>')
    assert doc.max_size == 7
    assert doc.min_size == 1
    doc = parse_html('<basefont size=5><font size="-1">x</font>')
    assert (doc.max_size, doc.min_size) == (4, 3)  # "-1" is relative to the new base font


def test_images_and_anchors() -> None:
    doc = parse_html(
        '<a href="http://a.example.com/x">click <b>here</b><img src="i.gif" width=10 height=20>'
        '</a><img src="j.gif" width="50%" height="10%"><img src=k.gif width=0 height=3>'
    )
    assert doc.image_area == 10 * 20 + 400 * 60 + 200 * 3
    assert doc.anchors == ["click here<img>\n"]
    link = doc.uris["http://a.example.com/x"]
    assert link.types == {"a": None}
    assert link.anchor_text == ["click here<img>\n"]
    assert doc.uris["i.gif"].types == {"img": None}


def test_uri_sources_and_base_href() -> None:
    doc = parse_html(
        '<base href="http://base.example.com/dir/page.html">'
        '<a href="../up/x.html">rel</a><a href="/abs">abs</a><a href="#frag">f</a>'
        '<a href="mailto:joe@example.com">m</a><form action="mailto:x@example.com">'
        '<body background="bg.png"><iframe src="http://frame.example.com/"></iframe>'
        '<meta http-equiv="Refresh" content="5; URL=http://go.example.com/">'
        '<a data-saferedirecturl="https://www.google.com/url?q=http://t.example.com/">z</a>'
        '<script src="//www.js.example.com/a.js"></script>'
    )
    uris = {uri: sorted(info.types) for uri, info in doc.uris.items() if info.types}
    assert uris == {
        "http://base.example.com/dir/page.html": ["base"],
        "http://base.example.com/up/x.html": ["a"],
        "http://base.example.com/abs": ["a"],
        "http://base.example.com/dir/#frag": ["a"],  # the base lost its file name
        "mailto:joe@example.com": ["a"],
        "mailto:x@example.com": ["form"],
        "http://base.example.com/dir/bg.png": ["body"],
        "http://frame.example.com/": ["iframe"],
        "http://go.example.com/": ["meta"],
        "https://www.google.com/url?q=http://t.example.com/": ["a"],
        "http://www.js.example.com/a.js": ["script"],
    }
    # anchor text is filed under the href as written
    assert doc.uris["../up/x.html"].anchor_text == ["rel"]
    assert doc.form_action_mailto


def test_attribute_entities_keep_query_strings() -> None:
    doc = parse_html('<a href="http://x.example.com/?a=1&region=2&amp;b=3&copy=4">q</a>')
    assert "http://x.example.com/?a=1&region=2&b=3©=4" in doc.uris


def test_comments_titles_scripts_meta() -> None:
    doc = parse_html(
        "<!-- saved from url=(0022)http://internet.e-mail -->"
        "<!x><title>T1</title><script>a=1</script><title>T2</title>"
        '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
        "<embed src=x.swf>"
    )
    assert doc.comments == ["<!-- saved from url=(0022)http://internet.e-mail -->", "<!x>"]
    assert doc.titles == ["T1", "T2"]
    assert doc.scripts == ["a=1"]
    assert doc.charsets == "koi8-r"
    assert doc.result("charsets") is None  # never reaches the reference's results
    assert doc.embeds


def test_unclosed_style_swallows_the_rest() -> None:
    doc = parse_html("shown<style>p{} <b>not shown")
    assert doc.rendered == "shown"
    assert doc.inside["style"] == 0


def test_end_of_input_splits_the_trailing_blanks() -> None:
    doc = parse_html('<font color="#ffffff">end text   </font>tail  \n')
    assert doc.rendered == "end text tail "


def test_lengths_and_ratio() -> None:
    doc = parse_html("<p>ab cd</p>", raw_length=24)
    assert doc.length == 12
    assert doc.html_length == len(doc.rendered)
    assert doc.non_space_len == 4
    assert doc.ratio == pytest.approx((24 - doc.html_length) / 24)


def test_uri_truncation_is_flagged() -> None:
    doc = parse_html('<a href="http://x.example.com/' + "a" * 9000 + '">x</a>')
    assert doc.uri_truncated
    assert all(len(uri) <= 8192 for uri in doc.uris)


TARGETS = [
    ("http://a.example/b/c/d;p?q", "g", "http://a.example/b/c/g"),
    ("http://a.example/b/c/d;p?q", "../g", "http://a.example/b/g"),
    ("http://a.example/b/c/d;p?q", "//g", "http://g"),
    ("http://a.example/b/c/d;p?q", "?y", "http://a.example/b/c/d;p?y"),
    ("http://a.example/b/c/d;p?q", "#s", "http://a.example/b/c/d;p?q#s"),
    ("http://a.example/b/c/", "http:g", "http://a.example/b/c/g"),
    ("", "//www.example.com/x", "http://www.example.com/x"),
    ("", "//ftp.example.com/x", "ftp://ftp.example.com/x"),
    ("", "page.html", "page.html"),
    ("", "./a/../b", "/b"),
]


@pytest.mark.parametrize(("base", "relative", "expected"), TARGETS)
def test_target_uri(base: str, relative: str, expected: str) -> None:
    assert target_uri(base, relative) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("<>/!-&#;=\"' abcpdivscript\n\x00é\ue000")) | st.characters(),
        max_size=200,
    )
)
def test_parse_html_never_raises(html: str) -> None:
    doc = parse_html(html)
    assert doc.rendered == doc.rendered  # a document always comes back
    assert len(doc.visible) + len(doc.invisible) == len(doc.rendered)
