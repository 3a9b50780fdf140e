"""Credits: each story's sources, and the whole site's, with rights named for people.

A story page credits its own sources (`credits`). The site gets one list of every source once,
with the stories that use it (`site_credits`), written as `credits.html` (linked from every page)
and `credits.txt` (plain text that travels with a copied or archived site): the list a rights
officer, or a teacher reusing the material, asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from storiiies.iiif.descriptive import ATTRIBUTION_LABEL, CREDIT_LABEL
from storiiies.iiif.language import pick
from storiiies.iiif.model import LanguageMap
from storiiies.model import Story
from storiiies.resolve.rights import is_restrictive, rights_name
from storiiies.resolve.virtual import credited_sources
from storiiies.site.assemble import Site

CREDITS_PAGE = "credits.html"
CREDITS_TEXT = "credits.txt"


@dataclass(frozen=True)
class Credit:
    alias: str
    label: str
    kind: str
    link: str | None
    providers: tuple[str, ...]
    statement_label: str
    #: The theme string to show instead of `statement_label` when that is one storiiies made
    #: up ("Credit", "Attribution"): it is then shown in the page's language.
    statement_key: str | None
    statement: Markup | None
    rights: str | None
    rights_name: str | None


def _label_key(label: LanguageMap) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted(label.items()))


_GENERATED_LABELS = {
    _label_key(CREDIT_LABEL): "credit_label",
    _label_key(ATTRIBUTION_LABEL): "attribution_label",
}


def credits(story: Story) -> list[Credit]:
    result = []
    for alias, document in story.sources.items():
        if document not in credited_sources(document):
            continue  # a virtual canvas: its parts' sources are credited, each on its own
        statement = document.required_statement
        result.append(
            Credit(
                alias=alias,
                label=pick(document.label, story.lang) or alias,
                kind=document.kind,
                link=document.homepage or (document.id if document.id.startswith("http") else None),
                providers=tuple(pick(agent.label, story.lang) for agent in document.providers),
                statement_label=pick(statement.label, story.lang) if statement else "",
                statement_key=_GENERATED_LABELS.get(_label_key(statement.label))
                if statement
                else None,
                # values were cleaned to the Presentation API's HTML subset when read
                statement=Markup(pick(statement.value, story.lang)) if statement else None,
                rights=document.rights,
                rights_name=rights_name(document.rights),
            )
        )
    return result


@dataclass(frozen=True)
class SiteCredit:
    credit: Credit
    #: The stories that show this source, in site order.
    stories: tuple[Story, ...]

    @property
    def restrictive(self) -> bool:
        return is_restrictive(self.credit.rights)


def site_credits(site: Site) -> list[SiteCredit]:
    """One entry per source (the same manifest used by two stories is listed once)."""
    found: dict[str, tuple[Credit, list[Story]]] = {}
    for story in site.stories:
        for credit in credits(story):
            key = story.sources[credit.alias].id
            if key not in found:
                found[key] = (credit, [])
            users = found[key][1]
            if not users or users[-1] is not story:  # two aliases of one story, one source
                users.append(story)
    entries = [SiteCredit(credit, tuple(stories)) for credit, stories in found.values()]
    return sorted(entries, key=lambda entry: entry.credit.label.casefold())


def credits_text(site: Site) -> str:
    """The credits as plain text: label, provider, statement, rights and link of each source."""
    title = site.config.settings.title
    lines = [f"Credits: {title}", "=" * len(f"Credits: {title}"), ""]
    for entry in site_credits(site):
        credit = entry.credit
        lines.append(credit.label)
        if credit.providers:
            lines.append(f"  Provided by: {', '.join(credit.providers)}")
        if credit.statement is not None:
            statement = credit.statement.striptags()
            lines.append(f"  {credit.statement_label or 'Attribution'}: {statement}")
        if credit.rights:
            name = f"{credit.rights_name} " if credit.rights_name else ""
            lines.append(f"  Rights: {name}<{credit.rights}>")
        else:
            lines.append("  Rights: not stated by the source")
        if credit.link:
            lines.append(f"  Source: {credit.link}")
        used = ", ".join(f"{story.title} ({site.story_url(story)})" for story in entry.stories)
        lines.append(f"  Used in: {used}")
        lines.append("")
    return "\n".join(lines)
