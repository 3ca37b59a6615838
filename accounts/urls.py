from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("accounts/users/", views.user_list, name="users"),
    path("accounts/users/new/", views.user_new, name="user-new"),
    path("accounts/users/<int:pk>/", views.user_edit, name="user"),
    path("accounts/users/<int:pk>/revoke-tokens/", views.user_revoke_tokens, name="user-revoke-tokens"),
]
