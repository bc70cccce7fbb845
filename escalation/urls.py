from django.urls import path

from escalation import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/cases/<str:figure>/", views.dashboard_figure, name="dashboard_figure"),
    path("cases/<str:reference>/exceptions/new", views.exception_new, name="exception_new"),
    path("exceptions/<int:request_id>/", views.exception_detail, name="exception_detail"),
    path("handoffs/<int:handoff_id>/convene", views.handoff_convene_view, name="handoff_convene"),
    path("exceptions/<int:request_id>/decide", views.exception_decision, name="exception_decide"),
]
