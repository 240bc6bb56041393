"""Meeting Guide: the served feed, its validator and the importer."""
