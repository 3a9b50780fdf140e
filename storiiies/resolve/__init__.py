"""RESOLVE: turn every source a story names into canvases, and every reference into a view.

sources.py reads each source (local images, IIIF documents through storiiies.iiif);
stories.py checks a story's references against them; virtual.py composes virtual canvases;
rights.py names rights statements."""
