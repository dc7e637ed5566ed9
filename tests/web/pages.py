"""What the web-page tests share: reading a rendered form's error codes, and the race in which
another account takes a name between a form's check and its save."""

from html.parser import HTMLParser

from tests.factories import UserFactory

STRONG_PASSWORD = "violet kettle orbit 42"


def new_account_data(**changes):
    """The POST data of a valid new account (sign-up or the admin's add form), with ``changes``;
    a changed ``password1`` is repeated in ``password2`` unless that is given too."""
    data = {
        "username": "maria",
        "email": "maria@example.com",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
    }
    data.update(changes)
    if "password1" in changes and "password2" not in changes:
        data["password2"] = changes["password1"]
    return data


def error_codes(response, field):
    """The codes of the errors the page's form shows on ``field``."""
    form = response.context["form"] if "form" in response.context else None
    if form is None:
        form = response.context["adminform"].form
    return {error.code for error in form.errors.as_data().get(field, [])}


def take_after_check(monkeypatch, form_class, **account):
    """Once ``form_class`` has validated a submission without errors, another account with these
    fields is created before the view saves (as a second request racing this one would)."""
    original = form_class.full_clean
    taken = []

    def full_clean(form):
        original(form)
        if not taken and form.is_bound and not form._errors:
            taken.append(UserFactory(**account))

    monkeypatch.setattr(form_class, "full_clean", full_clean)
    return taken


VOID_ELEMENTS = {"input", "br", "hr", "img", "meta", "link"}


class ElementsById(HTMLParser):
    """The attributes and text of every element with an ``id`` in a page, and its labels."""

    def __init__(self, html):
        super().__init__()
        self.elements = {}
        self.labels = {}
        self._open = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.elements[attrs["id"]] = {"tag": tag, "attrs": attrs, "text": ""}
        if tag == "label" and "for" in attrs:
            self.labels[attrs["for"]] = ""
        if tag not in VOID_ELEMENTS:
            self._open.append((tag, attrs.get("id"), attrs.get("for") if tag == "label" else None))

    def handle_endtag(self, tag):
        while self._open:
            open_tag, _, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, element_id, label_for in self._open:
            if element_id:
                self.elements[element_id]["text"] += data
            if label_for:
                self.labels[label_for] += data
