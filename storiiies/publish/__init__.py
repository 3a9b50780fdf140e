"""`storiiies publish`: the built site copied to object storage (S3 and any fsspec store) or
a folder, changed files only, each with its Content-Type and Cache-Control. See docs/publish.md.

    files.py    the built site's files: hash, Content-Type, Cache-Control, the order they go in
    plan.py     what the destination holds (its hash manifest) → what to upload and remove
    store.py    the destination through fsspec; its failures as one PublishError line
    run.py      publish_site(): the plan carried out, resumable after a kill
"""

from storiiies.publish.run import PublishReport, publish_site
from storiiies.publish.store import PublishError

__all__ = ["PublishError", "PublishReport", "publish_site"]
