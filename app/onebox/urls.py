from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("reader.api_urls")),
    path("", include("reader.urls")),
]

handler404 = "reader.errors.not_found"
handler500 = "reader.errors.server_error"
handler400 = "reader.errors.bad_request"
handler403 = "reader.errors.permission_denied"
