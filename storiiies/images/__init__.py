"""Every pixel storiiies handles: decoding local images (decode.py), cutting level-0 tile
trees (tiles.py, pyramid.py, jpegstrip.py, in worker processes: pool.py, worker.py), caching them
(cache.py) and answering Image API requests for the preview (request.py, server.py).

A library: it knows nothing of stories or sites."""
