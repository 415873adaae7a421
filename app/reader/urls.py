from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(template_name="reader/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="reader/password_change_done.html"),
        name="password_change_done",
    ),
    path("tokens/", views.tokens, name="tokens"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("read/", views.read, name="read"),
    path("vocab/", views.vocab_list, name="vocab-list"),
    path("vocab/import/", views.vocab_import, name="vocab-import"),
]
