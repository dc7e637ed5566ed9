"""Stored addresses whose domain mail systems read two ways: an IDNA 2008 deviation character
(``ß``, ``ς``, ZWJ, ZWNJ) in it. Keyed by the IDNA 2008 A-label, but Django's mailer (IDNA 2003)
sends their mail elsewhere (``faß.de`` to ``fass.de``); new ones are refused, and
``conflict_audit`` lists the ones accounts already have so their owners can be asked to change.
"""

from django.db.models import F, Func, IntegerField
from django.db.models.functions import Length

from authfold.accounts.caseless import ascii_domain, has_deviation_character
from authfold.data_migrations.detection import pages


class ByteLength(Func):
    """A text's length in bytes (UTF-8), where ``Length`` counts its characters."""

    function = "OCTET_LENGTH"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        template = "LENGTH(CAST(%(expressions)s AS BLOB))"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def deviation_domain_emails(user_model, using):
    """``(id, username, email, a_label)`` of every user whose address has a deviation character
    in its domain, in id order; ``a_label`` is the domain's IDNA 2008 A-label, or ``None``.

    The database picks the addresses with a character outside ASCII (longer in bytes than in
    characters); Python reads their domains, in primary-key pages: no database matches ``ß``
    alone (MariaDB's collations read it as ``s`` or ``ss``).
    """
    users = user_model._default_manager.using(using).alias(
        email_bytes=ByteLength("email"), email_characters=Length("email")
    )
    # Only an address with a character outside ASCII can have one: more bytes than characters.
    users = users.filter(email_bytes__gt=F("email_characters"))
    found = []
    for rows in pages(users, ("pk", "username", "email")):
        for pk, username, email in rows:
            domain = (email or "").rpartition("@")[2]
            if not domain.isascii() and has_deviation_character(domain):
                found.append((pk, username, email, ascii_domain(domain)))
    return found
