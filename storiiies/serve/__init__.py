"""`storiiies serve`: the author's preview. state.py reruns what a saved file feeds,
app.py answers requests, livereload.py and watch.py tell open pages to reload, run.py starts
the server; client/ holds the preview's own browser files."""
