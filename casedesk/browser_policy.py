"""Permissions-Policy: the browser features casedesk never uses are off on every response.

A page that script was injected into, or anything it embeds, then cannot ask the browser
for a camera, a microphone, the person's location, a payment or a device. The list names
only features Chromium recognises: an unknown one is a console error, which the browser
tests fail on (Chromium 156 does not know "bluetooth", for one). Passkey features are left
alone: a second factor may come to use them.
"""

DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
