"""The site every mail of ours names: the address its links are built on and the name its subject
and body give.

``AUTHFOLD_SITE_URL`` decides when it is set: then no mail takes anything from the request, whose
``Host`` header a client writes (``ALLOWED_HOSTS`` checks its name but never its port). Unset, it
is Django's choice for its own password-reset mail: ``django.contrib.sites``' current site when
that app is installed, else the request's host.
"""

from dataclasses import dataclass

from django.contrib.sites.shortcuts import get_current_site

from authfold.accounts.conf import site_url


@dataclass(frozen=True)
class MailSite:
    """A site as a mail names it: ``name`` for people, ``domain`` (with any port) and
    ``protocol`` for links."""

    name: str
    domain: str
    protocol: str

    def url(self, path):
        """The absolute address of ``path`` (an absolute path, as ``reverse`` gives) on the site."""
        return f"{self.protocol}://{self.domain}{path}"

    def context(self):
        """The names Django's own password-reset templates use, for our templates too."""
        return {"site_name": self.name, "domain": self.domain, "protocol": self.protocol}


def configured_mail_site():
    """``AUTHFOLD_SITE_URL`` as a :class:`MailSite` named by its host, or ``None`` when unset
    (as Django's reset form names a site it is given by ``domain_override``)."""
    configured = site_url()
    if configured is None:
        return None
    return MailSite(name=configured.netloc, domain=configured.netloc, protocol=configured.scheme)


def mail_site(request):
    """The site a mail sent while answering ``request`` names (see the module's docstring)."""
    configured = configured_mail_site()
    if configured is not None:
        return configured
    site = get_current_site(request)
    return MailSite(
        name=site.name, domain=site.domain, protocol="https" if request.is_secure() else "http"
    )
