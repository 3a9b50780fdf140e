"""Reading IIIF: fetching documents (fetch.py, with its cache and deadlines), and reading
Presentation 2.1/3.0 manifests, collections, canvases, Image API services, content states and
annotations into the values of model.py.

A library: it knows nothing of stories or sites. Writing stories as IIIF is storiiies.site's."""
