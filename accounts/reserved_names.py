"""Usernames a site keeps for itself, grouped by the public registry or convention each comes from.

Used only when ``AUTHFOLD_RESERVED_USERNAMES`` is ``True`` (the demo site) or a list of its own.
Compared through :func:`authfold.accounts.caseless.username_key`, so ``ADMIN``, ``ａｄｍｉｎ`` and
``Robots.TXT`` are reserved too. A name is here because, as a username, it would read as the site
speaking (a mailbox, a host, a staff role) or would shadow a path the site serves (profile pages
at ``/<username>/`` are common in host projects). Only names Django's username validator accepts
(letters, digits and ``@ . + - _``) are worth listing.
"""

# RFC 2142 ("Mailbox Names for Common Services, Roles and Functions", sections 3 to 5): the
# addresses every organisation is expected to answer, and RFC 5321 section 4.5.1 (postmaster).
RFC2142_MAILBOXES = [
    "info",
    "marketing",
    "sales",
    "support",
    "abuse",
    "noc",
    "security",
    "postmaster",
    "hostmaster",
    "usenet",
    "news",
    "webmaster",
    "www",
    "uucp",
    "ftp",
]

# Not a registry: the senders mail software uses for automatic messages (bounces, notifications);
# a person writing from them would pass for the system.
AUTOMATIC_SENDERS = [
    "mailer-daemon",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "bounce",
    "bounces",
    "notifications",
]

# The IANA "Well-Known URIs" registry (RFC 8615, https://www.iana.org/assignments/well-known-uris/):
# the /.well-known/ prefix itself and registered suffixes that are valid usernames.
WELL_KNOWN_URIS = [
    ".well-known",
    "well-known",
    "acme-challenge",
    "apple-app-site-association",
    "assetlinks.json",
    "caldav",
    "carddav",
    "change-password",
    "host-meta",
    "host-meta.json",
    "mta-sts.txt",
    "nodeinfo",
    "oauth-authorization-server",
    "openid-configuration",
    "openpgpkey",
    "pki-validation",
    "security.txt",
    "timezone",
    "webfinger",
]

# Files browsers and crawlers request by name at a site's root: robots.txt (RFC 9309),
# sitemap.xml (sitemaps.org protocol), favicon.ico (the HTML standard's default icon), ads.txt and
# app-ads.txt (IAB Tech Lab), the web app manifest (W3C Web Application Manifest), humans.txt,
# crossdomain.xml (Adobe's cross-domain policy).
ROOT_FILES = [
    "robots.txt",
    "sitemap.xml",
    "favicon.ico",
    "ads.txt",
    "app-ads.txt",
    "manifest.json",
    "site.webmanifest",
    "humans.txt",
    "crossdomain.xml",
]

# Host names: the special-use names of RFC 6761 (localhost, test, invalid, example), RFC 6762
# (local) and RFC 7686 (onion); service names from the IANA "Service Name and Transport Protocol
# Port Number" registry that are used as host labels (https://www.iana.org/assignments/
# service-names-port-numbers/); and the name servers and mail hosts DNS zones conventionally name.
HOST_NAMES = [
    "localhost",
    "localdomain",
    "test",
    "invalid",
    "example",
    "local",
    "onion",
    "http",
    "https",
    "mail",
    "smtp",
    "submission",
    "imap",
    "imaps",
    "pop",
    "pop3",
    "pop3s",
    "sftp",
    "ssh",
    "telnet",
    "domain",
    "dns",
    "ldap",
    "ntp",
    "nntp",
    "irc",
    "xmpp",
    "sip",
    "whois",
    "ns",
    "ns1",
    "ns2",
    "ns3",
    "ns4",
    "mx",
    "webmail",
    "autoconfig",
    "autodiscover",
    "mta-sts",
    "wpad",
]

# This app's own paths (accounts/urls.py, accounts/api/urls.py and the demo's mysite/urls.py) and
# the ones a host project next to it usually has.
SITE_PATHS = [
    "account",
    "accounts",
    "profile",
    "profiles",
    "user",
    "users",
    "me",
    "api",
    "auth",
    "token",
    "schema",
    "docs",
    "static",
    "media",
    "admin",
    "login",
    "logout",
    "signin",
    "sign-in",
    "signout",
    "sign-out",
    "signup",
    "sign-up",
    "register",
    "registration",
    "password",
    "reset",
    "settings",
    "activate",
    "confirm",
    "verify",
    "oauth",
    "home",
    "dashboard",
    "help",
    "about",
    "contact",
    "terms",
    "privacy",
    "search",
]

# Roles that look like the people running the site.
STAFF = [
    "administrator",
    "root",
    "superuser",
    "staff",
    "moderator",
    "owner",
    "sysadmin",
    "operator",
]

# Words that read as no one, or as the system.
SYSTEM = ["anonymous", "nobody", "null", "none", "undefined", "system", "everyone", "self"]

DEFAULT_RESERVED_USERNAMES = frozenset(
    RFC2142_MAILBOXES
    + AUTOMATIC_SENDERS
    + WELL_KNOWN_URIS
    + ROOT_FILES
    + HOST_NAMES
    + SITE_PATHS
    + STAFF
    + SYSTEM
)
