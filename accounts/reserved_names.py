"""Usernames a site usually keeps for itself, grouped by where the risk comes from.

Used only when ``AUTHFOLD_RESERVED_USERNAMES`` is ``True`` (the demo site) or a list of its own.
Compared through :func:`authfold.accounts.caseless.username_key`, so ``ADMIN`` and ``ａｄｍｉｎ`` are reserved too.
"""

# Names that look like the people running the site.
STAFF = ["admin", "administrator", "root", "superuser", "staff", "moderator", "owner", "sysadmin"]

# Addresses RFC 2142 reserves for an organisation's mailboxes; as usernames they impersonate it.
RFC2142_MAILBOXES = [
    "abuse",
    "hostmaster",
    "info",
    "marketing",
    "noc",
    "postmaster",
    "sales",
    "security",
    "support",
    "webmaster",
]

# Names that collide with the site's own paths and services.
SITE_PATHS = [
    "accounts",
    "api",
    "login",
    "logout",
    "signup",
    "register",
    "settings",
    "static",
    "media",
    "help",
    "about",
    "www",
    "mail",
    "ftp",
]

# Words that read as no one, or as the system.
SYSTEM = ["anonymous", "nobody", "null", "none", "undefined", "system", "everyone", "me", "self"]

DEFAULT_RESERVED_USERNAMES = frozenset(STAFF + RFC2142_MAILBOXES + SITE_PATHS + SYSTEM)
