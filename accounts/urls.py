from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.two_factor_setup, name="two_factor_setup"),
    path("qr.svg", views.two_factor_qr, name="two_factor_qr"),
    path("verify/", views.two_factor_verify, name="two_factor_verify"),
]
