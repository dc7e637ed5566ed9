"""Deciding, for each group of twins, who keeps the name and what the others are called instead.

The rule is a policy object, replaceable through ``AUTHFOLD_RESOLUTION_POLICY`` (a dotted path to
a class); the default, :class:`ActiveThenRecentLoginPolicy`, is the one docs/AUDIT.md describes. The
planner around it guarantees what every policy must: new names valid under Django's username
validator, at most 150 characters, and caselessly unique against every existing name and every
name planned before them. Plans are deterministic: the same data gives the same plan.

Above every policy: when some accounts of a group hold the name's key (their key row has its
digest, as every account written through ``Model.save()`` does) and others do not (written around
it: ``bulk_create``, ``update()``, raw SQL), the name stays with a holder. A row written around the
rule must not take a name from the account the database knew by it, whatever its dates say.
"""

from dataclasses import dataclass
from datetime import datetime, timezone

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.module_loading import import_string

from authfold.accounts.caseless import username_key
from authfold.accounts.conf import authfold_setting
from authfold.data_migrations.detection import chunks

USERNAME_MAX_LENGTH = 150
# New names tried per account in one round trip to the database; a rare name needs more rounds.
CANDIDATES_PER_ROUND = 4
GROUPS_PER_ROUND = 200
MAX_NUMBER = 1_000_000
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Rename:
    """One planned rename: account ``id`` goes from ``old`` to ``new``; ``reason`` says why."""

    id: int
    old: str
    new: str
    reason: str


class ActiveThenRecentLoginPolicy:
    """The default rule. One account keeps the name: active before inactive, then the most recent
    ``last_login`` (never logged in last), then the earliest ``date_joined``, then the lowest id.
    The others, in that same order, become ``<name><separator><smallest free number>``.
    """

    def __init__(self, separator=None):
        self.separator = (
            separator if separator is not None else authfold_setting("AUTHFOLD_RENAME_SEPARATOR")
        )
        self.validator = UnicodeUsernameValidator()

    def keeper_order(self, accounts):
        """The group's accounts, the one that keeps its name first."""

        def precedence(account):
            last_login = account.last_login or EARLIEST
            return (
                not account.is_active,
                account.last_login is None,
                -last_login.timestamp(),
                account.date_joined,
                account.id,
            )

        return sorted(accounts, key=precedence)

    def candidate(self, username, number):
        """The name to try for ``username`` with ``number``: the stem is shortened to fit 150
        characters (never the number), and stripped of characters Django's validator refuses."""
        suffix = f"{self.separator}{number}"
        stem = username
        if not self.is_valid(stem):
            stem = "".join(char for char in username if self.is_valid(char)) or "user"
        return stem[: USERNAME_MAX_LENGTH - len(suffix)] + suffix

    def is_valid(self, username):
        """Whether Django's username validator accepts ``username`` (and it fits the column)."""
        if len(username) > USERNAME_MAX_LENGTH:
            return False
        try:
            self.validator(username)
        except ValidationError:
            return False
        return True

    def reason(self, account, keeper):
        return (
            f"caseless twin of {keeper.username!r} (id {keeper.id}), which kept the name: "
            "active first, then most recent login, then earliest joined, then lowest id"
        )


def resolution_policy():
    """The policy the project configured (``AUTHFOLD_RESOLUTION_POLICY``), ready to use."""
    path = authfold_setting("AUTHFOLD_RESOLUTION_POLICY")
    try:
        policy = import_string(path)()
    except ImportError as error:
        raise ImproperlyConfigured(
            f"AUTHFOLD_RESOLUTION_POLICY = {path!r} cannot be imported: {error}"
        ) from error
    if not policy.is_valid(policy.candidate("a", 1)):
        raise ImproperlyConfigured(
            f"{path} makes names Django's username validator refuses "
            f"({policy.candidate('a', 1)!r}); check AUTHFOLD_RENAME_SEPARATOR."
        )
    return policy


@dataclass
class PlannedGroup:
    """A group of twins and its outcome: who keeps the name, and the renames of the others."""

    key: str
    keeper: object
    renames: list

    def summary(self):
        """One line, as the migration prints it."""
        renamed = ", ".join(f"{r.old!r} (id {r.id}) -> {r.new!r}" for r in self.renames)
        return (
            f"{self.key!r}: {self.keeper.username!r} (id {self.keeper.id}) keeps the name; "
            f"renamed {renamed}"
        )


def plan_resolution(groups, census, policy=None):
    """The renames that resolve ``groups`` (from :meth:`Survey.username_conflicts`), as a list
    of :class:`PlannedGroup` in the groups' order. ``census`` answers which names are taken."""
    policy = policy or resolution_policy()
    planned_keys = set()
    planned = []
    for round_groups in chunks(groups, GROUPS_PER_ROUND):
        ordered = [(group, keeper_order(policy, group.accounts)) for group in round_groups]
        first_tries = [
            policy.candidate(account.username, number)
            for _group, accounts in ordered
            for account in accounts[1:]
            for number in range(1, CANDIDATES_PER_ROUND + 1)
        ]
        taken = census.taken(first_tries)
        for group, accounts in ordered:
            keeper, others = accounts[0], accounts[1:]
            renames = []
            for account in others:
                new = free_name(policy, census, account.username, taken, planned_keys)
                planned_keys.add(username_key(new))
                renames.append(
                    Rename(account.id, account.username, new, reason(policy, account, keeper))
                )
            planned.append(PlannedGroup(group.key, keeper, renames))
    return planned


def keeper_order(policy, accounts):
    """The policy's order, with the accounts that hold the name's key first (a stable sort, so
    the policy still decides among holders, and among the others)."""
    return sorted(policy.keeper_order(accounts), key=lambda account: not account.holds_key)


def reason(policy, account, keeper):
    """Why ``account`` is renamed: the policy's reason, unless it lost to the key's holder."""
    if keeper.holds_key and not account.holds_key:
        return (
            f"caseless twin of {keeper.username!r} (id {keeper.id}), which held the name's key: "
            "this account was written around Model.save() (bulk_create, update() or raw SQL)"
        )
    return policy.reason(account, keeper)


def free_name(policy, census, username, taken, planned_keys):
    """The policy's candidate with the smallest number that is valid and caselessly free."""
    number = 1
    while number <= MAX_NUMBER:
        # Names beyond the first round trip are checked a round at a time.
        if number > CANDIDATES_PER_ROUND and (number - 1) % CANDIDATES_PER_ROUND == 0:
            taken = taken | census.taken(
                policy.candidate(username, n) for n in range(number, number + CANDIDATES_PER_ROUND)
            )
        name = policy.candidate(username, number)
        if policy.is_valid(name) and name not in taken and username_key(name) not in planned_keys:
            return name
        number += 1
    raise RuntimeError(f"no free new name for {username!r} up to number {MAX_NUMBER}")


def flatten(planned_groups):
    """Every rename of a plan, in order."""
    return [rename for group in planned_groups for rename in group.renames]
