# API for mentorships; matching/api/urls.py joins the routes.
urlpatterns = []
