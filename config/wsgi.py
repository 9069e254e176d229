import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# gunicorn imports this in each worker it forks: tracing starts here, before Django loads
# its middleware (the instrumentation adds its own), when OTEL_ENABLED switches it on.
if settings.OTEL_ENABLED:
    from core import observability

    observability.start_tracing()
application = get_wsgi_application()
