from django.urls import path

from inbound import views

urlpatterns = [
    path("mail/<str:which>/", views.mail_list, name="mail_list"),
    path("mail/message/<int:message_id>/", views.mail_detail, name="mail_detail"),
    path("mail/message/<int:message_id>/<str:action>", views.mail_act, name="mail_act"),
]
