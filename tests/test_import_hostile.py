"""`storiiies import` of a manifest written to break the story it makes: whatever the
annotations say, the story has exactly the manifest's steps, shows their text literally, links
only to web addresses, and builds (docs/reliability.md, "Import")."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from storiiies.build import build_site, check_site
from storiiies.tools.importer import import_story_notes
from tests.helpers import make_image, tags
from tests.test_narration import page_json

HOSTILE_HTML = (
    "<p>Plain start</p>\n"
    "<p>## Not a step</p>\n"
    "<p>Line one<br>---</p>\n"
    "<p>A line\n===</p>\n"
    '<div class="note">\n\n## Injected in HTML\n\n</div>\n'
    '<span class="x">![pic](../secret.png) [narration](../../audio/evil.mp3)</span>\n'
    '<p><a href="../../audio/evil.mp3">listen</a> and <a href="https://example.org/ok">ok</a>'
    ' and <a href="notes/page.html">relative</a></p>\n'
    '<ul><li><a href="../up.html">up</a></li></ul>\n'
    "<p>~~~</p>"
)
#: The same text, as a reader of the built story sees it (tags and spacing aside).
SHOWN = [
    "Plain start",
    "## Not a step",
    "---",
    "===",
    "## Injected in HTML",
    "![pic](../secret.png) [narration](../../audio/evil.mp3)",
    "listen and ok and relative",
    "up",
    "~~~",
]


def hostile_manifest(url: str) -> dict:
    canvas = f"{url}/canvas/1"

    def comment(number: int, label: str, body: object) -> dict:
        return {
            "id": f"{url}/annotation/{number}",
            "type": "Annotation",
            "motivation": "commenting",
            "label": {"en": [label]},
            "body": body,
            "target": f"{canvas}#xywh={number * 100},100,200,200",
        }

    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{url}/manifest.json",
        "type": "Manifest",
        "label": {"en": ["Hostile"]},
        "items": [
            {
                "id": canvas,
                "type": "Canvas",
                "width": 800,
                "height": 600,
                "items": [
                    {
                        "id": f"{canvas}/page",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": f"{canvas}/page/image",
                                "type": "Annotation",
                                "motivation": "painting",
                                "body": {
                                    "id": f"{url}/page.png",
                                    "type": "Image",
                                    "format": "image/png",
                                    "width": 800,
                                    "height": 600,
                                },
                                "target": canvas,
                            }
                        ],
                    }
                ],
                "annotations": [
                    {
                        "id": f"{canvas}/comments",
                        "type": "AnnotationPage",
                        "items": [
                            comment(
                                1,
                                "First\n\n## Injected by label ##",
                                {
                                    "type": "TextualBody",
                                    "format": "text/html",
                                    "value": HOSTILE_HTML,
                                },
                            ),
                            comment(
                                2,
                                "Second *step* ![x](../y.png)",
                                [
                                    {
                                        "type": "TextualBody",
                                        "format": "text/plain",
                                        "value": "Plain\n\n# Heading?\n\n- - -",
                                    },
                                    {
                                        "id": "../../audio/evil.mp3",
                                        "type": "Sound",
                                        "format": "audio/mpeg",
                                    },
                                ],
                            ),
                        ],
                    }
                ],
            }
        ],
    }


def test_a_hostile_manifest_imports_as_exactly_its_steps_and_builds(
    serve_dir, tmp_path: Path
) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    make_image(folder / "page.png", 800, 600)
    server = serve_dir(folder)
    (folder / "manifest.json").write_text(json.dumps(hostile_manifest(server.url)))
    project = tmp_path / "project"
    (project / "stories").mkdir(parents=True)
    (project / "storiiies.yml").write_text("title: Imported\n")
    result = import_story_notes(
        f"{server.url}/manifest.json", cwd=project, media_dir=project / "stories" / "media"
    )
    (project / "stories" / "hostile.md").write_text(result.text)
    assert [str(p) for p in check_site(project) if p.is_error] == []
    build_site(project)
    page = (project / "_site" / "hostile" / "index.html").read_text()
    steps = page_json(page, "story-data")["steps"]
    assert [step["title"] for step in steps[1:]] == [
        "First ## Injected by label ##",
        "Second *step* ![x](../y.png)",
    ]
    text = (project / "_site" / "hostile" / "text.html").read_text()
    flat = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", text)).split())
    for shown in SHOWN + ["Plain", "# Heading?", "- - -"]:
        assert shown in flat, shown
    # Links go to the web only: relative ones are made absolute against the manifest.
    hrefs = {
        attrs.get("href")
        for tag, attrs in tags(project / "_site" / "hostile" / "text.html")
        if tag == "a" and any(n in (attrs.get("href") or "") for n in ("evil", "page", "up", "ok"))
    }
    assert hrefs == {
        f"{server.url}/audio/evil.mp3",
        f"{server.url}/notes/page.html",
        f"{server.url}/up.html",
        "https://example.org/ok",
    }
    # The sound is resolved against the manifest: a web address, not a path in the project.
    assert f"[Listen to this step]({server.url}/audio/evil.mp3)" in result.text
    assert 'href="..' not in result.text
