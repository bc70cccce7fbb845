from django.urls import path

from accounts import two_factor_views, views

urlpatterns = [
    path("accounts/security/", views.security, name="account_security"),
    path("accounts/security/sign-out-others", views.sign_out_others, name="sign_out_others"),
    path("accounts/password/", views.PasswordChange.as_view(), name="password_change"),
    path("accounts/two-factor/", two_factor_views.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/qr.svg", two_factor_views.two_factor_qr, name="two_factor_qr"),
    path(
        "accounts/two-factor/verify/", two_factor_views.two_factor_verify, name="two_factor_verify"
    ),
]
