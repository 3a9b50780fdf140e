"""Script injection: hostile text in a remote manifest and in a story never runs in a built page.

Every payload goes into every place a manifest or a story can put text or a URL (labels,
summaries, required statements, metadata, providers, homepages, rights, image ids, canvas labels;
titles, summaries, authors, credits, headings, body text, alt text, links). The site is built and
every page opened in headless Chromium, which records any dialog and a `window.__pwned` canary;
the live DOM is then searched for event-handler attributes, script URLs and foreign elements.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog

from storiiies.build import build_site

pytestmark = pytest.mark.browser

CANARY = "window.__pwned"
PAYLOADS = [
    f"<script>{CANARY}=1</script>",
    f'<img src=x onerror="{CANARY}=2">',
    f'<svg onload="{CANARY}=3"></svg>',
    f"<svg><script>{CANARY}=4</script></svg>",
    f'<a href="javascript:{CANARY}=5">click</a>',
    f'<a href="JaVaScRiPt:{CANARY}=6">click</a>',
    f'<a href="&#106;avascript:{CANARY}=7">click</a>',
    f'<a href=" java\tscript:{CANARY}=8">click</a>',
    f'<iframe src="javascript:top.{CANARY[7:]}=9"></iframe>',
    f'<iframe srcdoc="<script>parent.{CANARY[7:]}=10</script>"></iframe>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxMSk8L3NjcmlwdD4=">data link</a>',
    "<img src=\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='alert(12)'/>\">",
    '<object data="javascript:alert(13)"></object><embed src="javascript:alert(14)">',
    f"<math><mtext><table><mglyph><style><img src=x onerror={CANARY}=15>",
    f'<details open ontoggle="{CANARY}=16"><summary>s</summary></details>',
    f'<body onload="{CANARY}=17">',
    f'"><script>{CANARY}=18</script>',
    f"'><img src=x onerror={CANARY}=19>",
    f"</script><script>{CANARY}=20</script>",
    f"<!--<script>--><script>{CANARY}=21</script>",
    '<style>@import "javascript:alert(22)"; body{display:none}</style>',
    '<div style="background:url(javascript:alert(23))">styled</div>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(24)">',
    '<base href="javascript:alert(25)//">',
    (
        '<form action="javascript:alert(26)">'
        '<button formaction="javascript:alert(27)">go</button></form>'
    ),
    f'<input autofocus onfocus="{CANARY}=28">',
    f'<video><source onerror="{CANARY}=29"></video>',
    f"<scr<script>ipt>{CANARY}=30</scr</script>ipt>",
    f"<img src=x:x onerror={CANARY}=31//",
    '<svg><a xlink:href="javascript:alert(32)"><text x="0" y="15">svg link</text></a></svg>',
    f'<noscript><p title="</noscript><img src=x onerror={CANARY}=33>"></noscript>',
    f"<template><script>{CANARY}=34</script></template><xmp><script>alert(35)</script></xmp>",
    f'<a href="vbscript:msgbox(36)">vb</a><a href="javascript&colon;{CANARY}=37">colon</a>',
    "{{ 7 * 7 }} {% raw %} ${7*7} <%= 7*7 %>",
    f'<a href="#" onclick="{CANARY}=38" onmouseover="{CANARY}=39">hover</a>',
    "\u202e<b>bidi</b>\u0000 nul <![CDATA[<script>alert(40)</script>]]>",
]
# Show every step of a tour page (whatever text the tour script puts in the page), without
# waiting for images that will never load.
WALK_STEPS = """() => {
  const tour = window.storiiies;
  if (!tour || !tour.go) return;
  for (let n = 0; n < tour.story.steps.length; n++) tour.go(n);
}"""
# Marks each <img> once its load or error event is dispatched. The mark is set in the capture
# phase, so the image's own handlers run in the same dispatch, before any later script can
# see the mark: once every image is marked, any handler a payload slipped in has run.
MARK_IMAGES = """(() => {
  const mark = (event) => { if (event.target.tagName === 'IMG') event.target.__settled = true; };
  document.addEventListener('load', mark, true);
  document.addEventListener('error', mark, true);
})();"""
IMAGES_SETTLED = (
    "() => [...document.images].every(img => img.__settled || !img.hasAttribute('src'))"
)
BAD_URL = f"javascript:{CANARY}=100"
URL_ATTRIBUTES = [
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "srcset",
]

FIND_DANGER = """
([urlAttributes, allowedInline]) => {
  const bad = [];
  const squash = (v) => v.toLowerCase().replace(/[\\s\\u0000-\\u001f]/g, "");
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (["iframe", "object", "embed", "base", "frame", "frameset", "applet"].includes(tag)
        || (tag === "meta" && el.hasAttribute("http-equiv"))
        || (tag === "form"
            && (el.getAttribute("method") !== "dialog" || el.hasAttribute("action"))))
      bad.push("element <" + tag + ">");
    if (tag === "script") {
      const type = el.getAttribute("type");
      const src = el.getAttribute("src") || "";
      const ours = type === "application/json" || /^(\\.\\.\\/)*(assets|_storiiies)\\//.test(src)
        || allowedInline.includes(el.textContent);
      if (!ours) bad.push("script " + (src || el.textContent.slice(0, 60)));
    }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) bad.push(tag + " " + name + "=" + attr.value.slice(0, 40));
      if (name === "style" && /url\\(|expression|javascript/i.test(attr.value))
        bad.push(tag + " style=" + attr.value);
      if (!urlAttributes.includes(name)) continue;
      const value = squash(attr.value);
      const favicon = tag === "link" && value === "data:,";
      if (/^(javascript|vbscript|data):/.test(value) && !favicon)
        bad.push(tag + " " + name + "=" + attr.value.slice(0, 60));
    }
  }
  return bad;
}
"""


def manifest(number: int, payload: str, base: str) -> dict[str, Any]:
    """A Presentation 3 manifest with `payload` in every text field and script URLs in link fields.
    Some give a script URL as their image id, others as their service id (one of the two is
    still usable: an image with neither is not shown at all, and the build says so)."""
    text = {"en": [payload], "none": [payload]}
    image_id = BAD_URL if number % 3 == 1 else f"{base}/img{number}/full/max/0/default.jpg"
    service_id = BAD_URL if number % 3 == 2 else f"{base}/img{number}"
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{base}/m{number}.json",
        "type": "Manifest",
        "label": text,
        "summary": text,
        "requiredStatement": {"label": text, "value": text},
        "metadata": [{"label": text, "value": text}],
        "provider": [{"id": f"{base}/agent", "type": "Agent", "label": text,
                      "homepage": [{"id": BAD_URL, "type": "Text", "label": text}]}],
        "homepage": [{"id": BAD_URL, "type": "Text", "label": text, "format": "text/html"}],
        "rights": BAD_URL,
        "thumbnail": [{"id": BAD_URL, "type": "Image"}],
        "items": [{
            "id": f"{base}/m{number}/canvas/1",
            "type": "Canvas",
            "label": text,
            "width": 1000,
            "height": 800,
            "thumbnail": [{"id": BAD_URL, "type": "Image"}],
            "items": [{"id": f"{base}/m{number}/page", "type": "AnnotationPage", "items": [{
                "id": f"{base}/m{number}/anno", "type": "Annotation", "motivation": "painting",
                "target": f"{base}/m{number}/canvas/1",
                "body": {"id": image_id, "type": "Image", "format": "image/jpeg",
                         "width": 1000, "height": 800,
                         "service": [
                             {"id": service_id, "type": "ImageService3", "profile": "level1"}
                         ]},
            }]}],
        }],
    }  # fmt: skip


def story(number: int, payload: str, url: str) -> str:
    """A story with `payload` everywhere; even stories also override the source's label, credit
    and rights (so odd ones show the manifest's own)."""
    quoted = json.dumps(payload)  # a JSON string is a valid YAML double-quoted scalar
    rights = json.dumps("https://creativecommons.org/licenses/by/4.0/#" + payload)
    overrides = (
        f"    label: {quoted}\n    credit: {quoted}\n    rights: {rights}\n"
        if number % 2 == 0
        else ""
    )
    return (
        f"---\ntitle: {quoted}\nsummary: {quoted}\nauthor: {quoted}\ntags: [{quoted}]\n"
        f"sources:\n  doc:\n    url: {url}\n{overrides}---\n"
        f"Intro {number}: {payload}\n\n"
        f"## {payload}\n![{payload}](doc#xywh=10,10,400,300)\n\n"
        f"Step text: {payload}\n\n"
        f"A [region link](doc#xywh=100,100,200,200), a [script link]({BAD_URL}), "
        f"![an image]({BAD_URL}) and <{BAD_URL}>.\n\n"
        f"## Second\n![A region]({'doc'}#xywh=percent:0,0,50,50)\n{payload}\n"
    )


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import LiveServer, static_app

    folder = tmp_path_factory.mktemp("hostile")
    served = folder / "served"
    served.mkdir()
    server = LiveServer(static_app(served)).start()
    root = folder / "project"
    (root / "stories").mkdir(parents=True)
    (root / "storiiies.yml").write_text("title: Hostile input\n", encoding="utf-8")
    try:
        for number, payload in enumerate(PAYLOADS):
            (served / f"m{number}.json").write_text(
                json.dumps(manifest(number, payload, server.url))
            )
            url = f"{server.url}/m{number}.json"
            (root / "stories" / f"p{number:02}.md").write_text(
                story(number, payload, url), encoding="utf-8"
            )
        build_site(root)
    finally:
        server.stop()
    return root / "_site"


def test_the_hostile_site_builds_with_every_payload_in_place(hostile_site: Path) -> None:
    pages = sorted(hostile_site.rglob("*.html"))
    assert len(pages) >= 1 + 2 * len(PAYLOADS)
    page = (hostile_site / "p00" / "text.html").read_text(encoding="utf-8")
    assert "<h1>&lt;script&gt;window.__pwned=1&lt;/script&gt;</h1>" in page  # the title, as text
    page = (hostile_site / "p33" / "text.html").read_text(encoding="utf-8")
    # the manifest's label, summary and statement as text, never evaluated as a template
    assert page.count("{{ 7 * 7 }} {% raw %} ${7*7}") >= 3


def test_no_payload_runs_in_any_page(hostile_site: Path, new_page, serve_dir) -> None:
    server = serve_dir(hostile_site)
    pages = sorted(p.relative_to(hostile_site).as_posix() for p in hostile_site.rglob("*.html"))
    page = new_page()  # one tab for all: every navigation starts a fresh window
    page.context.add_init_script(MARK_IMAGES)
    allowed_inline = inline_scripts_of_a_clean_page(page.context, server.url)
    dialogs: list[str] = []
    problems: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(f"{page.url}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    for name in pages:
        page.goto(f"{server.url}/{name}", wait_until="load")
        page.evaluate(WALK_STEPS)
        page.wait_for_function(IMAGES_SETTLED)
        if (canary := page.evaluate(f"() => {CANARY}")) is not None:
            problems.append(f"{name}: canary set to {canary}")
        problems += [
            f"{name}: {found}"
            for found in page.evaluate(FIND_DANGER, [URL_ATTRIBUTES, allowed_inline])
        ]
    # The home page's search puts story text and titles into the page: search for what every
    # step 1 says, so each story's card shows its matching steps with their payloads.
    page.goto(f"{server.url}/?q=step+text", wait_until="load")
    page.wait_for_function("document.querySelectorAll('.st-hits').length > 0")
    hits = page.evaluate("document.querySelectorAll('.st-hits li').length")
    assert hits >= len(PAYLOADS)
    if (canary := page.evaluate(f"() => {CANARY}")) is not None:
        problems.append(f"search results: canary set to {canary}")
    problems += [
        f"search results: {found}"
        for found in page.evaluate(FIND_DANGER, [URL_ATTRIBUTES, allowed_inline])
    ]
    print(
        f"\nxss: {len(PAYLOADS)} payloads in {len(pages)} pages and {hits} search results, "
        f"{len(problems) + len(dialogs)} ran or dangerous"
    )
    assert not dialogs, dialogs
    assert not problems, "\n".join(problems[:40])


def test_the_detector_sees_a_payload_that_runs(new_page, serve_dir, tmp_path: Path) -> None:
    """The check above would catch a payload that got through: here one does, on purpose."""
    (tmp_path / "unsafe.html").write_text(
        f"<!doctype html><p>{PAYLOADS[1]}<a href='{BAD_URL}'>x</a>"
        "<script>alert('seen')</script></p>"
    )
    server = serve_dir(tmp_path)
    page = new_page()
    page.context.add_init_script(MARK_IMAGES)
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    page.goto(f"{server.url}/unsafe.html", wait_until="load")
    page.wait_for_function(IMAGES_SETTLED)  # the same wait as above is enough to see it run
    assert page.evaluate(f"() => {CANARY}") == 2
    found = page.evaluate(FIND_DANGER, [URL_ATTRIBUTES, []])
    assert dialogs == ["seen"]
    assert any("onerror" in f for f in found) and any("javascript:" in f for f in found)
    assert any(f.startswith("script alert") for f in found)


def test_a_script_url_as_a_story_rights_uri_is_an_error(make_project) -> None:
    from storiiies.build import check_site

    root = make_project(
        {
            "stories/s.md": (
                "---\ntitle: T\nsources:\n  doc:\n    url: images/a.png\n"
                f"    rights: {BAD_URL}\n---\n## A\n![a](doc)\n"
            )
        }
    )
    problems = [str(p) for p in check_site(root)]
    assert any(
        p.startswith("stories/s.md:6:")
        and "must be the http(s) URI of a licence or rights statement" in p
        for p in problems
    ), problems


def inline_scripts_of_a_clean_page(context, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The theme's own inline scripts (the kiosk switch), read from the site's index page
    before any story text matters: they are the only inline scripts a page may hold."""
    page = context.new_page()
    page.goto(f"{url}/index.html", wait_until="domcontentloaded")
    scripts = page.evaluate(
        "() => [...document.querySelectorAll('head script:not([src]):not([type])')]"
        ".map(s => s.textContent)"
    )
    page.close()
    return list(scripts)


# What the HTML tokenizer reads inside a script element: a comment opener switches it into the
# "script data escaped" states, and `</script` ends the element early.
SCRIPT_TEXT_FRAGMENTS = [
    "<!--",
    "-->",
    "<script",
    "</script",
    "</SCRIPT >",
    "<\\",
    "<!",
    "&",
    "\u2028",
]


def test_a_comment_opener_in_titles_headings_and_alt_text_leaves_every_page_working(
    make_project, browser, serve_dir
) -> None:
    from tests.helpers import make_image

    root = make_project(
        {
            "stories/s.md": (
                '---\ntitle: "Coins <!-- one"\nsources:\n  img: images/a.png\n---\nIntro.\n\n'
                "## A step <!-- with a comment opener\n![<!--<script> alt](img#xywh=0,0,100,100)\n"
            )
        },
        config='title: "Exhibit <!-- two"\nkiosk:\n  enabled: true\n',
    )
    make_image(root / "images" / "a.png")
    build_site(root)
    server = serve_dir(root / "_site")
    context = browser.new_context()
    try:
        page = context.new_page()
        for name in ("s/", "s/embed.html"):
            page.goto(f"{server.url}/{name}", wait_until="load")
            page.wait_for_function("() => window.storiiies?.go && window.storiiies.story")
            assert page.evaluate("() => window.storiiies.story.title") == "Coins <!-- one"
            assert page.evaluate("() => window.storiiies.story.steps[1].title") == (
                "A step <!-- with a comment opener"
            )
        page.goto(f"{server.url}/", wait_until="load")
        settings = page.evaluate(
            "() => JSON.parse(document.getElementById('st-kiosk-settings').textContent)"
        )
        assert settings["stories"][0]["title"] == "Coins <!-- one"
        assert page.title().startswith("Exhibit <!-- two")
    finally:
        context.close()


def test_every_string_written_into_a_script_element_reads_back_with_json_parse(
    browser, serve_dir, tmp_path: Path
) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from storiiies.site.render import _script_json

    server = serve_dir(tmp_path)
    context = browser.new_context()
    page = context.new_page()
    pieces = st.one_of(st.text(), st.sampled_from(SCRIPT_TEXT_FRAGMENTS))
    strings = st.lists(pieces, max_size=8).map("".join)
    tried = 0

    @settings(max_examples=60, deadline=None, database=None)
    @given(st.lists(strings, min_size=1, max_size=30))
    def round_trips(values: list[str]) -> None:
        nonlocal tried
        tried += len(values)
        scripts = "".join(
            f'<script type="application/json" class="v">{_script_json({"text": v})}</script>'
            for v in values
        )
        (tmp_path / "page.html").write_text(
            f'<!doctype html><meta charset="utf-8">{scripts}<p id="end">end</p>', encoding="utf-8"
        )
        page.goto(f"{server.url}/page.html", wait_until="load")
        read = page.evaluate(
            """() => [...document.querySelectorAll("script.v")].map((s) => {
                 try { return JSON.parse(s.textContent).text; }
                 catch (e) { return "!" + e.message; }
               })"""
        )
        assert read == values
        assert page.evaluate("() => document.getElementById('end') !== null")

    try:
        round_trips()
    finally:
        context.close()
    print(f"\nscript json: {tried} strings read back with JSON.parse in Chromium")
