"""What a reader sees: the markdown report, the figure, the HTML page, provenance, the published-
runs commands and the side-by-side table.
"""
