"""Every Content-Security-Policy violation in the browser, as the browser itself sees it.

Two witnesses, so neither blind spot hides one: a `securitypolicyviolation` listener put
into every document before its own code runs (reports each violation to Python through an
exposed function, and keeps it in `window.__cspViolations` for the page to be asked), and
Chromium's console, which logs each refusal, also in report-only mode and with JavaScript
switched off. The console also says when the Permissions-Policy header names a feature
the browser does not know: that fails a test too, as a policy that is not what we think.
"""

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage

LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  const seen = `${event.disposition}: ${event.effectiveDirective} refused `
    + `${event.blockedURI || 'inline'} on ${event.documentURI} (line ${event.lineNumber}`
    + `, ${JSON.stringify(event.sample)})`;
  window.__cspViolations.push(seen);
  window.__casedeskCspViolation(seen);
});
"""
# How Chromium words a refusal in the console (prefixed "[Report Only]" in that mode).
CONSOLE_VIOLATION = "violates the following Content Security Policy directive"
CONSOLE_BAD_PERMISSIONS_POLICY = "Error with Permissions-Policy header"


class CspWatchedBrowser:
    """The session's browser: each context it opens is watched, and closed at the end."""

    def __init__(self, browser: Browser):
        self._browser = browser
        self.contexts: list[BrowserContext] = []
        self.violations: list[str] = []

    def new_context(self, **options) -> BrowserContext:
        context = self._browser.new_context(**options)
        self.contexts.append(context)
        context.expose_function("__casedeskCspViolation", self._on_report)
        context.add_init_script(LISTENER)
        context.on("console", self._on_console)
        return context

    def _on_report(self, violation: str) -> None:
        self.violations.append(violation)

    def _on_console(self, message: ConsoleMessage) -> None:
        if CONSOLE_VIOLATION in message.text or CONSOLE_BAD_PERMISSIONS_POLICY in message.text:
            self.violations.append(f"console: {message.text}")

    def close_all(self) -> list[str]:
        """Close every context, after one round trip to each page so that what a page has
        already reported has reached us; return the violations seen."""
        for context in self.contexts:
            for page in context.pages:
                if not page.is_closed():
                    page.title()
            context.close()
        self.contexts.clear()
        return self.violations
