"""One table of claimed identifiers: what each save writes, and the rule between usernames and
emails kept by the database itself, whatever the timing."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from authfold.accounts.keys import CaselessConflict, claims_ready
from authfold.accounts.models import IdentifierClaim
from tests.factories import UserFactory
from tests.test_enforcement_races import run_at_once

User = get_user_model()


@pytest.fixture(autouse=True)
def lookalikes_allowed(settings):
    """The library's default: a username and an email claim; the look-alike tests turn it on."""
    settings.AUTHFOLD_REFUSE_LOOKALIKES = False


def statements(function, with_password_check=True):
    """The SQL statements ``function`` sends (each a round trip in autocommit), after the
    once-per-process look at the schema."""
    claims_ready(connection.alias)
    with CaptureQueriesContext(connection) as captured:
        function()
    sent = [query["sql"] for query in captured.captured_queries]
    if with_password_check:
        return sent
    # The API tokens' check for a changed password (a feature of its own) is not counted.
    return [sql for sql in sent if not is_password_check(sql)]


def is_password_check(sql):
    return sql.startswith("SELECT") and "password" in sql and "authfold_" not in sql


@pytest.mark.django_db(transaction=True)
def test_create_user_in_autocommit_sends_at_most_four_statements():
    sent = statements(lambda: User.objects.create_user("maria", "maria@example.org"), False)
    assert len(sent) <= 4, sent


@pytest.mark.django_db(transaction=True)
def test_a_save_that_changes_neither_name_nor_email_sends_only_its_update():
    user = UserFactory(username="maria", email="maria@example.org")
    user = User.objects.get(pk=user.pk)
    user.first_name = "Maria"
    sent = statements(user.save)
    assert len(sent) == 1, sent


@pytest.mark.django_db(transaction=True)
def test_a_change_of_case_of_ones_own_name_sends_only_its_update():
    user = User.objects.get(pk=UserFactory(username="maria").pk)
    user.username = "Maria"
    sent = statements(user.save)
    assert len(sent) == 1, sent
    assert User.objects.get().username == "Maria"


@pytest.mark.django_db
def test_the_audit_repair_keys_again_only_claims_a_write_around_save_made_stale():
    from authfold.accounts.caseless import username_digest
    from authfold.data_migrations.claims import repair_claims, stale_claims

    recased = UserFactory(username="maria", email="maria@example.org")
    recased.username = "MARIA"
    recased.save()
    moved = UserFactory(username="john", email="john@example.org")
    User.objects.filter(pk=moved.pk).update(username="johnny")
    [stale] = stale_claims(IdentifierClaim, "default")
    assert IdentifierClaim.objects.get(pk=stale).source == "john"
    repair_claims(User, IdentifierClaim, "default")
    holders = dict(IdentifierClaim.objects.values_list("digest", "user_id"))
    assert holders[username_digest("johnny")] == moved.pk
    assert username_digest("john") not in holders
    assert holders[username_digest("maria")] == recased.pk


@pytest.mark.django_db
def test_a_rename_around_save_that_only_a_collation_calls_equal_makes_its_claim_stale():
    from authfold.data_migrations.claims import stale_claims

    padded = UserFactory(username="maria")
    # Equal to "maria" under a PAD SPACE collation (MariaDB's utf8mb4_bin), another key.
    User.objects.filter(pk=padded.pk).update(username="maria ")
    [stale] = stale_claims(IdentifierClaim, "default")
    assert IdentifierClaim.objects.get(pk=stale).source == "maria"


@pytest.mark.django_db
def test_a_user_whose_username_is_its_own_email_holds_one_claim():
    UserFactory(username="maria@example.org", email="Maria@Example.org")
    assert IdentifierClaim.objects.count() == 1


@pytest.mark.django_db
def test_a_new_users_claims_name_it_as_their_holder():
    user = UserFactory(username="maria", email="maria@example.org")
    assert set(IdentifierClaim.objects.values_list("user_id", "kind")) == {
        (user.pk, "username"),
        (user.pk, "email"),
    }


@pytest.mark.django_db
def test_a_rename_drops_the_claim_on_the_old_name():
    user = UserFactory(username="maria", email="maria@example.org")
    user.username = "ana"
    user.save()
    UserFactory(username="MARIA", email="other@example.org")
    assert User.objects.count() == 2


@pytest.mark.django_db
def test_deleting_a_user_frees_its_names_at_once():
    UserFactory(username="maria", email="maria@example.org").delete()
    UserFactory(username="MARIA", email="MARIA@example.org")
    assert User.objects.get().username == "MARIA"


@pytest.mark.django_db(transaction=True)
def test_a_username_that_is_another_accounts_email_is_refused_by_the_database():
    UserFactory(username="victim", email="X@Example.org")
    with pytest.raises(CaselessConflict) as refusal:
        User.objects.create_user("x@example.org", "attacker@example.org")
    assert refusal.value.field == "username"
    assert list(User.objects.values_list("username", flat=True)) == ["victim"]


@pytest.mark.django_db(transaction=True)
def test_an_email_that_is_another_accounts_username_is_refused_by_the_database():
    UserFactory(username="x@example.org", email="owner@example.org")
    with pytest.raises(CaselessConflict) as refusal:
        User.objects.create_user("victim", "X@EXAMPLE.org")
    assert refusal.value.field == "email"
    other = UserFactory(username="bob", email="bob@example.org")
    other.email = "x@Example.org"
    with pytest.raises(CaselessConflict) as refusal:
        other.save()
    assert refusal.value.field == "email"
    assert User.objects.get(pk=other.pk).email == "bob@example.org"


@pytest.mark.django_db(transaction=True)
def test_a_username_spelled_with_the_unicode_form_of_anothers_email_domain_is_refused():
    UserFactory(username="victim", email="hans@xn--bcher-kva.de")
    with pytest.raises(CaselessConflict):
        User.objects.create_user("HANS@bücher.de", "attacker@example.org")


# Pairs of requests sent together, per race test: as many as the attack that found the race.
RACED_PAIRS = 72


def sign_up(arguments):
    username, email = arguments
    return User.objects.create_user(username, email)


@pytest.mark.django_db(transaction=True)
def test_a_sign_up_named_as_an_address_and_another_sign_up_with_that_address_leave_one():
    for round_ in range(RACED_PAIRS):
        address = f"x{round_}@example.org"
        outcomes = run_at_once(
            sign_up, [(address, f"attacker{round_}@example.org"), (f"victim{round_}", address)]
        )
        assert all(isinstance(o, (User, CaselessConflict)) for o in outcomes), outcomes
        assert sum(isinstance(o, User) for o in outcomes) == 1, outcomes
    # No account's username is another account's email.
    emails = {email.lower() for email in User.objects.values_list("email", flat=True)}
    assert not emails & {name.lower() for name in User.objects.values_list("username", flat=True)}


@pytest.mark.django_db(transaction=True)
def test_a_sign_up_named_as_an_address_and_an_email_change_to_it_leave_one_holder():
    for round_ in range(RACED_PAIRS):
        address = f"x{round_}@example.org"
        victim = UserFactory(username=f"victim{round_}", email=f"victim{round_}@example.org")

        def act(which, address=address, round_=round_, victim=victim):
            if which == "sign-up":
                return User.objects.create_user(address, f"attacker{round_}@example.org")
            victim.email = address
            victim.save()
            return victim

        outcomes = run_at_once(act, ["sign-up", "change"])
        assert all(isinstance(o, (User, CaselessConflict)) for o in outcomes), outcomes
        assert sum(isinstance(o, User) for o in outcomes) == 1, outcomes
    emails = {email.lower() for email in User.objects.values_list("email", flat=True)}
    assert not emails & {name.lower() for name in User.objects.values_list("username", flat=True)}


def test_upgrading_claims_every_user_and_keeps_what_legacy_accounts_share(accounts_migrator):
    from django.db.migrations.recorder import MigrationRecorder

    from authfold.accounts.caseless import email_digest, username_digest

    accounts_migrator.to("0008")
    maria, john, named, victim = User.objects.bulk_create(
        [
            User(username="maria", email="shared@example.com"),
            User(username="john", email="SHARED@example.com"),
            User(username="x@example.org", email="owner@example.org"),
            User(username="victim", email="X@example.org"),
        ]
    )
    accounts_migrator.to("latest")
    holders = dict(IdentifierClaim.objects.values_list("digest", "user_id"))
    assert holders[email_digest("shared@example.com")] == maria.pk  # john keeps it, unclaimed
    # The username is the login found first: it keeps the address; the victim's is unclaimed.
    assert holders[email_digest("x@example.org")] == named.pk
    for user in (maria, john, named, victim):
        assert holders[username_digest(user.username)] == user.pk
    with pytest.raises(CaselessConflict):
        User.objects.create_user("newcomer", "Shared@Example.com")
    # Killed after its work and before Django recorded it: it runs again, changing nothing.
    claims = sorted(IdentifierClaim.objects.values_list("digest", "user_id"))
    recorder = MigrationRecorder(connection)
    later = sorted(
        name for app, name in recorder.applied_migrations() if app == "authfold" and name > "0011"
    )
    for name in ["0011_identifier_claims", *later]:
        recorder.record_unapplied("authfold", name)
    accounts_migrator.to("0011_identifier_claims")
    for name in later:
        recorder.record_applied("authfold", name)
    assert sorted(IdentifierClaim.objects.values_list("digest", "user_id")) == claims
    accounts_migrator.to("0008")
    assert IdentifierClaim._meta.db_table not in connection.introspection.table_names()
    assert sorted(User.objects.values_list("username", flat=True)) == sorted(
        ["maria", "john", "x@example.org", "victim"]
    )


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_two_transactions_that_claim_each_others_addresses_refuse_one_and_commit_the_other():
    """A deadlock the database breaks is a race lost: a refusal on the field, not a 500."""
    UserFactory(username="first", email="first@example.org")
    UserFactory(username="second", email="second@example.org")
    claimed_once = threading.Barrier(2)

    def claim_both(names):
        mine, theirs = names
        try:
            with transaction.atomic():
                user = User.objects.get(username=mine)
                user.email = f"{mine}-new@example.org"
                user.save()
                claimed_once.wait(timeout=30)
                user.email = f"{theirs}-new@example.org"
                user.save()
            return user
        except Exception as error:  # noqa: BLE001 - every outcome is asserted on
            claimed_once.abort()
            return error
        finally:
            connections.close_all()

    outcomes = [None, None]

    def run(index, names):
        outcomes[index] = claim_both(names)

    threads = [
        threading.Thread(target=run, args=(0, ("first", "second"))),
        threading.Thread(target=run, args=(1, ("second", "first"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    refused = [o for o in outcomes if isinstance(o, CaselessConflict)]
    assert len(refused) == 1 and refused[0].field == "email", outcomes
    assert sum(isinstance(o, User) for o in outcomes) == 1, outcomes
    emails = sorted(User.objects.values_list("email", flat=True))
    assert len(emails) == len(set(emails)) == 2


@pytest.mark.django_db(transaction=True)
def test_two_lookalike_sign_ups_sent_together_leave_one(settings):
    settings.AUTHFOLD_REFUSE_LOOKALIKES = True
    for round_ in range(RACED_PAIRS):
        outcomes = run_at_once(
            sign_up,
            [
                (f"maria{round_}", f"a{round_}@example.org"),
                (f"mɑria{round_}", f"b{round_}@example.org"),
            ],
        )
        assert sum(isinstance(o, User) for o in outcomes) == 1, outcomes
        (refusal,) = [o for o in outcomes if not isinstance(o, User)]
        assert isinstance(refusal, CaselessConflict) and refusal.lookalike, outcomes
        assert refusal.field == "username"
    assert User.objects.count() == RACED_PAIRS


@pytest.mark.django_db
def test_lookalike_claims_are_written_only_while_lookalikes_are_refused(settings):
    UserFactory(username="maria", email="maria@example.org")
    assert not IdentifierClaim.objects.filter(kind=IdentifierClaim.LOOKALIKE).exists()
    settings.AUTHFOLD_REFUSE_LOOKALIKES = True
    UserFactory(username="paypal", email="paypal@example.org")
    claim = IdentifierClaim.objects.get(kind=IdentifierClaim.LOOKALIKE)
    assert (claim.source, claim.user.username) == ("paypal", "paypal")
    # The legacy name holds none: a look-alike of it is the validators' to refuse, not a twin.
    assert UserFactory(username="maría", email="maria2@example.org").pk


@pytest.mark.django_db
def test_renaming_gives_up_the_old_names_lookalike_claim(settings):
    settings.AUTHFOLD_REFUSE_LOOKALIKES = True
    user = UserFactory(username="paypal", email="paypal@example.org")
    user.username = "sam"
    user.save()
    assert list(
        IdentifierClaim.objects.filter(kind=IdentifierClaim.LOOKALIKE).values_list(
            "source", flat=True
        )
    ) == ["sam"]
    assert User.objects.create_user("pаypal", "other@example.org").pk  # Cyrillic а: free again


def test_a_lost_lookalike_race_is_reported_as_the_lookalike_check_reports_it():
    from authfold.accounts.validators import conflict_error

    error = conflict_error(CaselessConflict("username", "mɑria", lookalike=True))
    (refusal,) = error.error_dict["username"]
    assert refusal.code == "username_lookalike"
    assert "mɑria" in refusal.message % refusal.params
