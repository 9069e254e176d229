"""Settings for ``benchmarks.page_bench``'s gunicorn: the production settings, plus a URLconf
with two reference views and a static root of the bench's own. Never used outside the bench."""

import os

from config.settings import *  # noqa: F403

# The reference views live only here: production URLs never route them.
ROOT_URLCONF = "benchmarks.page_urls"
# collectstatic writes the manifest here, so the checkout's staticfiles/ is left alone.
STATIC_ROOT = os.environ["PAGE_BENCH_STATIC_ROOT"]
