"""Reads for matching, scoped to the person asking; pages and the API share them. One module
per area; import from the module (``from matching.selectors.requests import request_list``):
this package re-exports nothing."""
