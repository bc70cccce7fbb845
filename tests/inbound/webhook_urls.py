"""The site's URLs with the provider webhook mounted, as a set CASEDESK_INBOUND_WEBHOOK_SECRET
mounts it (casedesk/urls.py reads the setting once, at import)."""

from django.urls import include, path

from casedesk.urls import urlpatterns as site

urlpatterns = [*site, path("anymail/", include("anymail.urls"))]
