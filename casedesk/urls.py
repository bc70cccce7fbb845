from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from casedesk.signin import SignInForm
from casedesk.views import cases, client_access, queue, status, system

urlpatterns = [
    path("", system.home, name="home"),
    path("healthz", system.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("accounts.urls")),
    path("status/", client_access.client_cases, name="client_cases"),
    path("status/new/", client_access.client_request_new, name="client_request_new"),
    path("status/sign-in/", client_access.sign_in_request, name="client_sign_in_request"),
    path("status/sign-in/<str:token>/", client_access.sign_in_with_link, name="client_sign_in"),
    path("status/sign-out/", client_access.sign_out, name="client_sign_out"),
    path("status/<str:token>/", status.status_page, name="status_page"),
    path(
        "status/<str:token>/attachments/<int:attachment_id>/",
        status.status_attachment,
        name="status_attachment",
    ),
    path("cases/", queue.case_queue, name="case_queue"),
    path("cases/new", cases.case_new, name="case_new"),
    path("cases/<str:reference>/", cases.case_detail, name="case_detail"),
    path("cases/<str:reference>/act/<str:action>", cases.case_act, name="case_act"),
    path(
        "cases/<str:reference>/handoffs/<int:handoff_id>/answer",
        cases.handoff_answer,
        name="handoff_answer",
    ),
    path(
        "cases/<str:reference>/attachments/<int:attachment_id>/",
        cases.attachment_download,
        name="attachment_download",
    ),
    path(
        "cases/<str:reference>/attachments/<int:attachment_id>/remove",
        cases.attachment_remove,
        name="attachment_remove",
    ),
    path(
        "cases/<str:reference>/callbacks/<int:callback_id>/done",
        cases.callback_done,
        name="callback_done",
    ),
    path(
        "cases/<str:reference>/handoffs/<int:handoff_id>/assign",
        cases.handoff_assign,
        name="handoff_assign",
    ),
    # The escalation app (the top layer) adds its pages; included by name, not imported.
    path("", include("escalation.urls")),
    path("", include("inbound.urls")),  # email in: the mail lists (the layer above, by name)
    # One door: the admin signs in through the site's throttled, audited sign-in page.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="login", query_string=True),
        name="admin_login_redirect",
    ),
    path("admin/", admin.site.urls),
]

if settings.ANYMAIL["WEBHOOK_SECRET"]:  # never an unauthenticated way in for email
    urlpatterns.append(path("anymail/", include("anymail.urls")))
