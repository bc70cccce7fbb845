from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/security/", views.security, name="account_security"),
    path("accounts/security/sign-out-others", views.sign_out_others, name="sign_out_others"),
    path("accounts/password/", views.PasswordChange.as_view(), name="password_change"),
]
