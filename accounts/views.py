"""A signed-in person's own security: recent sign-ins, signing out elsewhere, the password."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import second_factor
from accounts.audit import access_events_of
from accounts.services import password_change, sessions_end_others


@login_required
@require_GET
def security(request):
    context = {
        "events": access_events_of(user=request.user),
        "has_second_factor": second_factor.has_second_factor(request.user),
        "may_enrol": second_factor.may_enrol(request.user),
    }
    return render(request, "accounts/security.html", context)


@login_required
@require_POST
def sign_out_others(request):
    sessions_end_others(request=request, now=timezone.now())
    messages.success(request, "Your other sessions are signed out; this one stays signed in.")
    return redirect("account_security")


class PasswordChange(auth_views.PasswordChangeView):
    success_url = reverse_lazy("account_security")

    def form_valid(self, form):
        password_change(request=self.request, form=form, now=timezone.now())
        messages.success(self.request, "Password changed. Your other sessions are signed out.")
        return HttpResponseRedirect(self.get_success_url())
