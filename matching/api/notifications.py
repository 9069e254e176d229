# API for notifications; matching/api/urls.py joins the routes.
urlpatterns = []
