"""Everything that speaks IIIF: fetching, reading Presentation and Image API documents,
tiling local images, and exporting stories as manifests."""
