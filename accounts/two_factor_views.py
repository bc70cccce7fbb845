"""Setting up and using the second factor. Thin: accounts.second_factor does the work."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from accounts import second_factor
from accounts.forms import CodeForm


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Staff: scan the code into an authenticator app, confirm with a code it shows, and
    keep the recovery codes shown once."""
    if not second_factor.may_enrol(request.user):
        raise Http404
    if second_factor.awaits_code(request.user):  # a password alone replaces nothing
        return redirect(f"{reverse('two_factor_verify')}?next={request.path}")
    device = second_factor.enrolment_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolled = second_factor.second_factor_enrol(
                user=request.user,
                code=form.cleaned_data["code"],
                request=request,
                now=timezone.now(),
            )
        except second_factor.SecondFactorError as error:
            form.add_error("code", str(error))
        else:
            context = {"codes": enrolled.recovery_codes, "next": _next(request)}
            return render(request, "accounts/two_factor_codes.html", context)
    context = {
        "form": form,
        "secret": second_factor.typed_key(device),
        "required": second_factor.is_required_for(request.user),
        "enrolled": second_factor.has_second_factor(request.user),
        "next": _next(request),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=_status(form))


@login_required
@require_GET
def two_factor_qr(request):
    """The setup code as an SVG picture, served from here (no inline data: images)."""
    if not second_factor.may_enrol(request.user) or second_factor.awaits_code(request.user):
        raise Http404
    svg = second_factor.qr_svg(second_factor.enrolment_device(request.user))
    return HttpResponse(svg, content_type="image/svg+xml")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """After the password: a code from the app, or a recovery code (used up)."""
    second_factor.remember_device(request)  # it may have been reset since sign-in
    if not second_factor.session_has_device(request) or request.user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.second_factor_verify(
                user=request.user,
                code=form.cleaned_data["code"],
                request=request,
                now=timezone.now(),
            )
        except second_factor.SecondFactorError as error:
            form.add_error("code", str(error))
        else:
            return redirect(_next(request))
    context = {"form": form, "next": _next(request)}
    return render(request, "accounts/two_factor_verify.html", context, status=_status(form))


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else "/"


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200
