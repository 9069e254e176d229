# API for meetings; matching/api/urls.py joins the routes.
urlpatterns = []
