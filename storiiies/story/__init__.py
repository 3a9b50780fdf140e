"""LOAD + PARSE: find the story files of a project and read each into a StoryDraft.

files.py finds them; parse.py reads one (front matter in frontmatter.py, references in
references.py, narration files in narration.py); translations.py pairs `coins.fr.md` with its
original."""
