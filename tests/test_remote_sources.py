"""Stories whose sources are real IIIF documents fetched over HTTP from 127.0.0.1."""

from __future__ import annotations

import json
import shutil

import pytest

from storiiies.build import build_site, check_site
from storiiies.errors import BuildFailed, NotIIIF
from storiiies.tools.inspect_source import inspect_source

pytestmark = pytest.mark.shared

P2 = "documents/manifesto/test__fixtures__attribution-without-label.json"  # MDZ, 4 canvases
P3 = "documents/cookbook/recipe__0009-book-1__manifest.json"  # 5 canvases, Image API 3
COLLECTION = "documents/cookbook/recipe__0030-multi-volume__collection.json"
ANNOTATION_PAGE = "fragments/presentation-validator/fixtures__3__annoPage.json"


def story(sources: dict[str, str], body: str) -> str:
    lines = "\n".join(f"  {alias}: {url}" for alias, url in sources.items())
    return f"---\ntitle: Remote\nsources:\n{lines}\n---\nIntro.\n\n{body}"


def test_presentation_2_and_3_manifests_build(make_project, fixture_server):
    root = make_project(
        {
            "stories/remote.md": story(
                {"mdz": f"{fixture_server.url}/{P2}", "book": f"{fixture_server.url}/{P3}"},
                "## A newspaper page\n![The front page](mdz/2#xywh=percent:0,0,50,30)\n\n"
                "## A book\n![Page 2](book/2#xywh=100,100,1000,800)\n",
            )
        }
    )
    report = build_site(root)
    (built,) = report.site.stories
    assert built.sources["mdz"].presentation_version == 2
    assert built.sources["book"].presentation_version == 3
    first, second = built.steps
    assert (
        first.views[0].canvas.id
        == "https://api.digitale-sammlungen.de/iiif/presentation/v2/bsb10502296/canvas/10"
    )
    assert first.views[0].region == (0, 0, 750, 521)  # 30 % of 1738 px, in whole pixels
    assert second.views[0].canvas.images[0].service.version == 3
    page = (root / "_site" / "remote" / "index.html").read_text()
    assert "No Copyright – Non-Commercial Use Only" in page  # the P2 licence, named
    data = json.loads(page.split('id="story-data">')[1].split("</script>")[0])
    sources = [
        image["source"] for canvas in data["canvases"].values() for image in canvas["images"]
    ]
    assert {
        "kind": "iiif",
        "info": "https://api.digitale-sammlungen.de/iiif/image/v2/bsb10502296_00010/info.json",
    } in sources


def test_image_service_info_json_is_a_source(make_project, serve_dir, tmp_path):
    service = tmp_path / "iiif" / "img1"
    service.mkdir(parents=True)
    (service / "info.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/image/2/context.json",
                "@id": "https://images.example.org/iiif/img1",
                "protocol": "http://iiif.io/api/image",
                "width": 4000,
                "height": 3000,
                "profile": ["http://iiif.io/api/image/2/level2.json"],
            }
        )
    )
    server = serve_dir(tmp_path)
    root = make_project(
        {
            "stories/s.md": story(
                {"img": f"{server.url}/iiif/img1/info.json"},
                "## Detail\n![A detail](img#xywh=10,10,100,100)\n",
            )
        }
    )
    report = build_site(root)
    view = report.site.stories[0].steps[0].views[0]
    assert (view.canvas.width, view.canvas.height) == (4000, 3000)
    assert view.canvas.images[0].service.id == "https://images.example.org/iiif/img1"
    # The text version's crop never asks the server to upscale a small region.
    text = (root / "_site" / "s" / "text.html").read_text()
    assert "https://images.example.org/iiif/img1/10,10,100,100/full/0/default.jpg" in text


def test_remote_problems_name_the_line_that_declared_the_source(make_project, fixture_server):
    root = make_project(
        {
            "stories/bad.md": story(
                {
                    "gone": f"{fixture_server.url}/no/such/manifest.json",
                    "coll": f"{fixture_server.url}/{COLLECTION}",
                    "page": f"{fixture_server.url}/{ANNOTATION_PAGE}",
                    "book": f"{fixture_server.url}/{P3}",
                },
                "## A\n![x](gone)\n\n## B\n![x](coll)\n\n## C\n![x](page)\n\n## D\n![x](book/9)\n\n"
                "## E\n![x](book/1#xywh=0,0,9000,400)\n",
            )
        }
    )
    problems = [str(p) for p in check_site(root) if p.is_error]
    url = fixture_server.url
    assert problems[0] == (
        f"stories/bad.md:4:3: error: source 'gone': {url}/no/such/manifest.json"
        " answered HTTP 404 Not Found"
        " — check the URL: the server has no document there"
    )
    assert problems[1].startswith(
        "stories/bad.md:5:3: error: source 'coll': this is a IIIF Collection"
    )
    assert problems[2].startswith(
        "stories/bad.md:6:3: error: source 'page': this is a IIIF AnnotationPage"
    )
    assert problems[3:] == [
        "stories/bad.md:21:6: error: canvas 9 of 'book' does not exist (it has 5 canvases)"
        " — use a number from 1 to 5; `storiiies inspect` lists them",
        "stories/bad.md:24:6: error: region 0,0,9000,400 is outside canvas 1 of 'book' (3204×4613)"
        " — the canvas is 3204×4613 pixels",
    ]


def test_collection_member_is_chosen_with_manifest(
    make_project, fixture_server, serve_dir, tmp_path
):
    volumes = [
        f"{fixture_server.url}/documents/cookbook/recipe__0030-multi-volume__manifest_v{n}.json"
        for n in (1, 2)
    ]
    (tmp_path / "collection.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/3/context.json",
                "id": "https://example.org/collection.json",
                "type": "Collection",
                "label": {"en": ["Volumes"]},
                "items": [
                    {"id": url, "type": "Manifest", "label": {"en": [f"Vol. {n}"]}}
                    for n, url in enumerate(volumes, 1)
                ],
            }
        )
    )
    server = serve_dir(tmp_path)
    root = make_project(
        {
            "stories/s.md": (
                f"---\ntitle: T\nsources:\n  vol:\n    url: {server.url}/collection.json\n"
                "    manifest: 2\n"
                "---\n## A\n![x](vol)\n"
            )
        }
    )
    report = build_site(root)
    assert report.site.stories[0].sources["vol"].label == {
        "en": ("Seirō ehon nenjū gyōji : kan 2 | 青楼絵本年中行事 : 巻 2",)
    }


def test_second_build_and_offline_build_use_the_cache(make_project, serve_dir, shared, tmp_path):
    folder = tmp_path / "served"
    shutil.copytree(shared / "fixtures" / "manifests" / "documents" / "cookbook", folder)
    server = serve_dir(folder)
    root = make_project(
        {
            "stories/s.md": story(
                {"book": f"{server.url}/recipe__0009-book-1__manifest.json"}, "## A\n![x](book/2)\n"
            )
        }
    )
    build_site(root)
    server.stop()
    build_site(root)  # network gone: the cached copy is used
    build_site(root, offline=True)
    other = make_project(
        {"stories/s.md": story({"book": f"{server.url}/never-fetched.json"}, "## A\n![x](book)\n")}
    )
    with pytest.raises(BuildFailed) as failure:
        build_site(other, offline=True)
    assert "is not in the cache and --offline is set" in str(failure.value.problems[0])


def test_html_pages_and_closed_ports_get_a_clear_error(make_project, serve_dir, tmp_path):
    (tmp_path / "viewer.html").write_text("<!doctype html><html><body>A viewer page</body></html>")
    server = serve_dir(tmp_path)
    from tests.conftest import free_port

    closed = f"http://127.0.0.1:{free_port()}/manifest.json"
    root = make_project(
        {
            "stories/s.md": story(
                {"page": f"{server.url}/viewer.html", "down": closed},
                "## A\n![x](page)\n\n## B\n![x](down)\n",
            )
        }
    )
    problems = [str(p) for p in check_site(root) if p.is_error]
    assert problems[0] == (
        f"stories/s.md:4:3: error: source 'page': {server.url}/viewer.html returned an HTML page,"
        " not IIIF JSON — use the manifest's own URL (often ending in manifest.json),"
        " not the viewer page"
    )
    assert problems[1].startswith(
        f"stories/s.md:5:3: error: source 'down': cannot reach {closed} (ConnectError"
    )
    assert len(problems) == 2


def test_a_canvas_named_by_its_full_id_resolves_or_is_an_error_at_its_line(
    make_project, fixture_server
):
    canvas = "https://iiif.io/api/cookbook/recipe/0009-book-1/canvas"
    book = {"book": f"{fixture_server.url}/{P3}"}
    root = make_project(
        {
            "stories/s.md": story(
                book,
                f"## Page 2\n![Page 2](book/{canvas}/p2#xywh=100,100,1000,800)\n\n"
                f"## Page 3\n[page 3]({canvas}/p3) and ![Page 3, whole](book/{canvas}/p3)\n",
            )
        }
    )
    report = build_site(root)
    first, second = report.site.stories[0].steps
    assert (first.views[0].canvas.index, first.views[0].region) == (2, (100, 100, 1000, 800))
    assert second.views[0].canvas.index == 3
    wrong = make_project(
        {"stories/s.md": story(book, f"## Page 9\n![Page 9](book/{canvas}/p9#xywh=0,0,10,10)\n")}
    )
    problems = [str(p) for p in check_site(wrong) if p.is_error]
    assert problems == [
        f"stories/s.md:9:11: error: 'book' has no canvas with id {canvas}/p9"
        " — use the canvas's 1-based number or its exact id; `storiiies inspect` lists them"
    ]


def p2_manifest(resources: list[dict]) -> dict:
    """A Presentation 2 manifest with one 1000×800 canvas per image resource."""

    def canvas(n: int, resource: dict) -> dict:
        canvas_id = f"https://example.org/canvas/{n}"
        painting = {"@type": "oa:Annotation", "motivation": "sc:painting", "on": canvas_id}
        return {
            "@id": canvas_id,
            "@type": "sc:Canvas",
            "label": f"p. {n}",
            "width": 1000,
            "height": 800,
            "images": [{**painting, "resource": resource}],
        }

    return {
        "@context": "http://iiif.io/api/presentation/2/context.json",
        "@id": "https://example.org/manifest.json",
        "@type": "sc:Manifest",
        "label": "Pages",
        "sequences": [
            {
                "@type": "sc:Sequence",
                "canvases": [canvas(n, resource) for n, resource in enumerate(resources, 1)],
            }
        ],
    }


def test_p2_images_without_a_usable_id_are_shown_by_their_image_service(
    make_project, serve_dir, tmp_path
):
    images = "https://images.example.org/iiif"
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            p2_manifest(
                [
                    # The service is only an id (as an object, or as a string) next to an id
                    # that is no URL.
                    {
                        "@type": "dctypes:Image",
                        "@id": "urn:x-page:1",
                        "service": {"@id": f"{images}/p1"},
                    },
                    {"@type": "dctypes:Image", "service": f"{images}/p2"},
                    {
                        "@type": "dctypes:Image",
                        "@id": "urn:x-page:3",
                        "service": {
                            "@id": f"{images}/p3",
                            "profile": "http://iiif.io/api/image/2/level1.json",
                        },
                    },
                    {"@type": "dctypes:Image", "@id": "urn:x-page:4"},  # nothing a browser can show
                ]
            )
        )
    )
    server = serve_dir(tmp_path)
    source = {"pages": f"{server.url}/manifest.json"}
    root = make_project(
        {
            "stories/s.md": story(
                source,
                "## One\n![p1](pages/1)\n\n## Two\n![p2](pages/2)\n\n## Three\n![p3](pages/3)\n",
            )
        }
    )
    build_site(root)
    page = (root / "_site" / "s" / "index.html").read_text()
    data = json.loads(page.split('id="story-data">')[1].split("</script>")[0])
    shown = [image["source"] for canvas in data["canvases"].values() for image in canvas["images"]]
    assert shown == [{"kind": "iiif", "info": f"{images}/p{n}/info.json"} for n in (1, 2, 3)]
    broken = make_project({"stories/s.md": story(source, "## Four\n![p4](pages/4)\n")})
    assert [str(p) for p in check_site(broken) if p.is_error] == [
        "stories/s.md:9:7: error: canvas 4 of 'pages' has no image storiiies can show"
        " — pick another canvas; `storiiies inspect` lists them"
    ]
    report = inspect_source(f"{server.url}/manifest.json", cwd=tmp_path)
    assert "None" not in report
    assert (
        "  warning: canvas 4 has an image with no web address and no image service and was skipped"
        in report.splitlines()
    )
    assert f"      Image API 2 level 0: {images}/p2" in report.splitlines()


def test_p2_collection_members_without_a_type_are_its_manifests(
    make_project, fixture_server, serve_dir, tmp_path
):
    cookbook = f"{fixture_server.url}/documents/cookbook"
    volumes = [f"{cookbook}/recipe__0030-multi-volume__manifest_v{n}.json" for n in (1, 2)]
    (tmp_path / "collection.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/2/context.json",
                "@id": "https://example.org/collection.json",
                "@type": "sc:Collection",
                "label": "Volumes",
                # Presentation 2 lists manifests under `manifests`: many collections leave
                # out @type.
                "manifests": [
                    {"@id": url, "label": f"Vol. {n}"} for n, url in enumerate(volumes, 1)
                ],
            }
        )
    )
    server = serve_dir(tmp_path)
    url = f"{server.url}/collection.json"
    root = make_project(
        {
            "stories/s.md": (
                f"---\ntitle: T\nsources:\n  vol:\n    url: {url}\n    manifest: 2\n---\n"
                "## A\n![x](vol)\n"
            )
        }
    )
    report = build_site(root)
    assert report.site.stories[0].sources["vol"].id == volumes[1]
    whole = make_project({"stories/s.md": story({"vol": url}, "## A\n![x](vol)\n")})
    assert [str(p) for p in check_site(whole) if p.is_error] == [
        "stories/s.md:4:3: error: source 'vol': this is a IIIF Collection of 2 manifests,"
        f" not a manifest — pick one of its manifests: {volumes[0]}, {volumes[1]} (or keep the"
        " collection and add `manifest:` with a number from 1 to 2 or a manifest id)"
    ]


def test_a_collection_without_manifests_gets_one_story_from_check_build_and_inspect(
    make_project, serve_dir, tmp_path
):
    def collection(items: list[dict]) -> str:
        return json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/3/context.json",
                "id": "https://example.org/c.json",
                "type": "Collection",
                "label": {"en": ["C"]},
                "items": items,
            }
        )

    sub = "https://example.org/sub.json"
    (tmp_path / "nested.json").write_text(collection([{"id": sub, "type": "Collection"}]))
    (tmp_path / "empty.json").write_text(collection([]))
    server = serve_dir(tmp_path)
    nested, empty = f"{server.url}/nested.json", f"{server.url}/empty.json"
    root = make_project(
        {
            "stories/s.md": (
                f"---\ntitle: T\nsources:\n  a: {nested}\n"
                f"  b:\n    url: {nested}\n    manifest: 1\n"
                f"  c: {empty}\n  d:\n    url: {empty}\n    manifest: 1\n---\n"
                "## A\n![a](a)\n\n## B\n![b](b)\n\n## C\n![c](c)\n\n## D\n![d](d)\n"
            )
        }
    )
    in_nested = f" — pick a manifest from one of its collections: {sub}"
    in_empty = " — use the URL of a manifest instead"
    assert [str(p) for p in check_site(root) if p.is_error] == [
        "stories/s.md:4:3: error: source 'a': this is a IIIF Collection of 1 collection,"
        f" not a manifest{in_nested}",
        f"stories/s.md:5:3: error: source 'b': this IIIF Collection lists no manifests{in_nested}",
        "stories/s.md:8:3: error: source 'c': this is a IIIF Collection with no manifests,"
        f" not a manifest{in_empty}",
        f"stories/s.md:9:3: error: source 'd': this IIIF Collection lists no manifests{in_empty}",
    ]
    for url, hint in ((nested, in_nested), (empty, in_empty)):
        with pytest.raises(NotIIIF) as caught:
            inspect_source(url, cwd=tmp_path)
        assert f"{caught.value.message} — {caught.value.hint}" == (
            f"this IIIF Collection lists no manifests{hint}"
        )


def _state_pointing_at(url: str) -> str:
    return json.dumps(
        {
            "@context": "http://iiif.io/api/presentation/3/context.json",
            "type": "Annotation",
            "motivation": ["contentState"],
            "target": url,
        }
    )


def test_content_states_that_point_at_each_other_are_one_problem(make_project, serve_dir, tmp_path):
    folder = tmp_path / "states"
    folder.mkdir()
    server = serve_dir(folder)
    (folder / "a.json").write_text(_state_pointing_at(f"{server.url}/b.json"))
    (folder / "b.json").write_text(_state_pointing_at(f"{server.url}/a.json"))
    (folder / "self.json").write_text(_state_pointing_at(f"{server.url}/self.json"))
    root = make_project(
        {
            "stories/s.md": story(
                {"loop": f"{server.url}/a.json", "itself": f"{server.url}/self.json"},
                "## A\n![x](loop)\n\n## B\n![x](itself)\n",
            )
        }
    )
    problems = [str(p) for p in check_site(root) if p.is_error]
    assert problems == [
        f"stories/s.md:4:3: error: source 'loop': the content state at {server.url}/b.json points"
        f" back at {server.url}/a.json, which leads to it — the references loop; give the"
        " manifest's URL instead",
        f"stories/s.md:5:3: error: source 'itself': the content state at {server.url}/self.json"
        f" points back at {server.url}/self.json, which leads to it — the references loop;"
        " give the manifest's URL instead",
    ]


def test_a_chain_of_content_states_longer_than_the_limit_is_one_problem(
    make_project, serve_dir, tmp_path
):
    folder = tmp_path / "states"
    folder.mkdir()
    server = serve_dir(folder)
    for n in range(12):
        (folder / f"{n}.json").write_text(_state_pointing_at(f"{server.url}/{n + 1}.json"))
    far = story({"far": f"{server.url}/0.json"}, "## A\n![x](far)\n")
    root = make_project({"stories/s.md": far})
    problems = [str(p) for p in check_site(root) if p.is_error]
    assert problems == [
        f"stories/s.md:4:3: error: source 'far': {server.url}/0.json leads through more than 5"
        " content states — give the manifest's URL instead",
    ]
