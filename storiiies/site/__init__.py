"""ASSEMBLE + RENDER + WRITE: the stories become pages, manifests, crops and assets, and
the folder is swapped in whole.

assemble.py gathers the site; render.py, themes.py and strings.py make its pages; manifest.py
and annotations.py write each story as IIIF; crops.py cuts the local crops that image_urls.py
names; write.py writes atomically."""
