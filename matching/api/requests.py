# API for requests; matching/api/urls.py joins the routes.
urlpatterns = []
