# Pages for mentorships. Each view module lists its own routes; matching/urls.py joins them.
urlpatterns = []
