"""The run's results as Markdown: a table per database, the plans, the machine and the command."""

NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "mariadb": "MariaDB"}


def ms(value):
    return f"{value:.3f} ms" if value < 10 else f"{value:,.1f} ms"


def ratio(value, floor):
    if not floor:
        return "n/a"
    quotient = value / floor
    return f"{quotient:,.3f}x" if quotient < 0.1 else f"{quotient:,.2f}x"


def verdict(met):
    return "**met**" if met else "**not met**"


def three_way_row(label, timings, target, scanning_note=""):
    ours, exact = timings["ours"], timings["exact"]
    naive = timings.get("naive")
    within = ours["median_ms"] / exact["median_ms"]
    shown = ratio(ours["median_ms"], exact["median_ms"])
    naive_cells = (
        f"{ms(naive['median_ms'])} ({naive['repetitions']}x) | {ratio(naive['median_ms'], exact['median_ms'])}"
        if naive
        else "n/a | n/a"
    )
    return (
        f"| {label} | {ms(ours['median_ms'])} ({ours['repetitions']}x) "
        f"| {ms(exact['median_ms'])} ({exact['repetitions']}x){scanning_note} | {naive_cells} "
        f"| **{shown}** | ≤ {target}x: {verdict(within <= target)} |"
    )


def database_section(database, results, real_hasher):
    figures = results["figures"]
    lines = [
        f"### {NAMES[database]} ({results['server']}), {results['users']:,} users",
        "",
        f"Loaded in {results['load']['seconds']:.1f} s (+ {results['load']['analyze_seconds']:.1f} s "
        f"ANALYZE); {results['twin_groups']:,} twin pairs for the resolution. "
        + load_averages(results),
        "",
    ]
    if "login" in figures or "signup" in figures:
        lines += [
            "| Figure (median) | ours | exact (floor) | naive `iexact` | naive / exact "
            "| ours / exact | target |",
            "|---|---|---|---|---|---|---|",
        ]
    if "login" in figures:
        timings = figures["login"]["timings"]
        lines.append(
            three_way_row(
                "1. Login: `authenticate()`, random case, failure throttle on", timings, 1.25
            )
        )
        lines.append(
            three_way_row(
                "1. Login: the statements each sent, replayed raw (database only)",
                figures["login"]["database_only"],
                1.25,
            )
        )
    if "login_prepared" in figures:
        prepared = figures["login_prepared"]
        lines.append(
            three_way_row(
                "1. Login, `server_side_binding` (prepared statements)", prepared["timings"], 1.25
            )
        )
    if "signup" in figures:
        lines.append(
            three_way_row(
                "2. Sign-up: username uniqueness check",
                figures["signup"]["username"]["timings"],
                1.1,
            )
        )
        lines.append(
            three_way_row(
                "2. Sign-up: username + email checks",
                figures["signup"]["username_and_email"]["timings"],
                1.1,
                " (email unindexed: scans)",
            )
        )
    lines.append("")
    if "login" in figures:
        timings = figures["login"]["timings"]
        hashing = real_hasher["median_ms"]
        lines.append(
            f"- 1. With the real hasher ({hashing:.0f} ms a check) a login costs ours / exact = "
            f"**{(hashing + timings['ours']['median_ms']) / (hashing + timings['exact']['median_ms']):.3f}x**."
        )
    if "writes" in figures:
        lines += ["", *writes_table(figures["writes"])]
    lines.extend(other_figures(figures))
    found = login_correctness(figures)
    if found:
        lines += ["", found]
    not_measured = results.get("not_measured", {})
    if not_measured:
        lines += [""] + [
            f"- Not measured, {name}: {reason}." for name, reason in not_measured.items()
        ]
    lines += ["", plans_section(database, figures)]
    if "writes" in figures:
        lines += ["", writes_profile(database, figures["writes"])]
    return "\n".join(lines)


def load_averages(results):
    """The load average (1, 5, 15 minutes) when this database's run started and ended."""
    start, end = results.get("load_average_at_start"), results.get("load_average_at_end")
    if not start or not end:
        return ""
    return (
        f"Load average at start {', '.join(f'{v:.2f}' for v in start)}, "
        f"at end {', '.join(f'{v:.2f}' for v in end)}."
    )


# Each write's target: the most it may cost against plain Django, and at most this many statements.
WRITE_FIGURES = {
    "create_user": ("`create_user`, autocommit (a sign-up)", 1.5, 4),
    # No target: how much of the autocommit figure is its commits (one here, as plain Django's).
    "create_user_in_transaction": (
        "`create_user` in one transaction (authfold's sign-up page and API)",
        None,
        None,
    ),
    "profile_save": ("`save()` changing neither name nor email", None, "plain"),
    "case_change": ("`save()` of one's own name in another case", 2.0, None),
}


def writes_table(writes):
    """Ours against plain Django (authfold's receivers off) for each write, with statements."""
    lines = [
        "| Write (median) | ours | plain Django (floor) | ours / floor | statements, ours / floor "
        "| target |",
        "|---|---|---|---|---|---|",
    ]
    for figure, (label, most, statements) in WRITE_FIGURES.items():
        if figure not in writes:
            continue
        ours, plain = writes[figure]["timings"]["ours"], writes[figure]["timings"]["plain"]
        within = ours["median_ms"] / plain["median_ms"]
        sent, floor_sent = len(ours["statements"]), len(plain["statements"])
        targets, met = [], True
        if most is not None:
            targets.append(f"≤ {most:g}x")
            met = met and within <= most
        if statements == "plain":
            targets.append("no extra statement")
            met = met and sent <= floor_sent
        elif statements is not None:
            targets.append(f"≤ {statements} statements")
            met = met and sent <= statements
        target = f"{', '.join(targets)}: {verdict(met)}" if targets else "none"
        lines.append(
            f"| {label} | {ms(ours['median_ms'])} ({ours['repetitions']}x) "
            f"| {ms(plain['median_ms'])} ({plain['repetitions']}x) | **{ratio(ours['median_ms'], plain['median_ms'])}** "
            f"| {sent} / {floor_sent} | {target} |"
        )
    return lines


def writes_profile(database, writes):
    """Where each write's time goes: statements one by one, and the Python around them."""
    blocks = [f"<details><summary>Where the writes' time goes on {NAMES[database]}</summary>", ""]
    for figure, (label, _most, _statements) in WRITE_FIGURES.items():
        if figure not in writes:
            continue
        for name, summary in writes[figure]["timings"].items():
            profile = summary["profile"]
            blocks.append(
                f"{label}, {'ours' if name == 'ours' else 'plain Django'}: "
                f"{profile['total_ms']:.3f} ms a call, {profile['database_ms']:.3f} ms in "
                f"statements, {profile['python_ms']:.3f} ms in Python"
            )
            blocks.append("```")
            for statement, spent in profile["statements"].items():
                blocks.append(f"{spent['per_call']:.2f}x {spent['mean_ms']:.3f} ms  {statement}")
            blocks.append("```")
    blocks += ["", "</details>"]
    return "\n".join(blocks)


def other_figures(figures):
    lines = []
    audit = figures.get("audit")
    if audit:
        within = audit["ours_s"] / audit["floor_s"]
        lines.append(
            f"- 3. Audit: `conflict_audit --format json` {audit['ours_s']:.2f} s against "
            f"{audit['floor_s']:.2f} s for one `GROUP BY LOWER(username)` (**{within:.2f}x**, "
            f"target ≤ 2x: {verdict(within <= 2)}); peak memory {audit['peak_rss_mb']:.0f} MB "
            f"(Django alone: {audit['baseline_rss_mb']:.0f} MB; target < 150 MB: "
            f"{verdict(audit['peak_rss_mb'] < 150)})."
        )
    signup = figures.get("signup", {}).get("username_and_lookalike")
    if signup:
        timings = signup["timings"]
        both, alone = timings["ours"]["median_ms"], timings["username_only"]["median_ms"]
        lines.append(
            f"- Look-alike check (`AUTHFOLD_REFUSE_LOOKALIKES`): the sign-up username check "
            f"{ms(alone)}, with the look-alike check after it {ms(both)}: the look-alike check "
            f"costs **{ms(both - alone)}** (one probe of the skeleton digest index; interleaved "
            f"on the same inputs, {timings['ours']['repetitions']}x)."
        )
    lookalikes = figures.get("lookalikes")
    if lookalikes:
        lines.append(
            f"- Look-alikes: `migrate authfold 0006` (the skeleton digest column added, filled "
            f"for {lookalikes['filled']:,} users, indexed) {lookalikes['seconds']:.1f} s."
        )
    resolution = figures.get("resolution")
    if resolution:
        lines.append(
            f"- 4. Resolution: `migrate authfold 0002` {resolution['seconds']:.1f} s "
            f"(target < 30 s: {verdict(resolution['seconds'] < 30)}), "
            f"{resolution['statements']:,} statements; twin groups left: {resolution['twins_left']}."
        )
    enforcement = figures.get("enforcement")
    if enforcement:
        migration = enforcement["migration"]
        line = (
            f"- 5. Enforcement: `migrate authfold 0003` took {migration['operation_s']:.1f} s while "
            f"a writer created users; the longest write took {migration['longest_write_s'] * 1000:,.0f} ms "
            f"(median {migration['median_write_ms']:.1f} ms, {migration['writes_during']} writes, "
            f"{migration['failed_writes']} failed)"
        )
        if enforcement.get("failed_attempts"):
            line += (
                f"; {len(enforcement['failed_attempts'])} earlier attempt(s) failed while users "
                f"signed up: {enforcement['failed_attempts'][0]}"
            )
        blocking = enforcement.get("blocking_index")
        if blocking:
            line += (
                f"; a plain `CREATE UNIQUE INDEX` on the same table blocked a write for "
                f"{blocking['longest_write_s'] * 1000:,.0f} ms (build {blocking['operation_s']:.1f} s)"
            )
            line += f". Target < 1 s: {verdict(migration['longest_write_s'] < 1)}."
        else:
            line += "."
        lines.append(line)
    registration = figures.get("registration")
    if registration:
        ours, seed = registration["timings"]["ours"], registration["timings"]["seed"]
        within = ours["requests_per_s"] / seed["requests_per_s"]
        lines.append(
            f"- 6. Registration API: {ours['requests_per_s']:.0f} requests/s against "
            f"{seed['requests_per_s']:.0f} for the seed-style serializer (**{within:.2f}x**, "
            f"target ≥ 0.9x: {verdict(within >= 0.9)}), {ours['repetitions']} requests each."
        )
    return lines


def login_correctness(figures):
    login = figures.get("login")
    if not login:
        return ""
    naive = login["timings"]["naive"]
    ours = login["timings"]["ours"]
    replayed = login.get("database_only", {})
    sent = ", ".join(
        f"{name} {summary['statements_per_login']:.2f}" for name, summary in replayed.items()
    )
    return (
        (f"Statements per login: {sent}. " if sent else "")
        + f"Logins found: ours {ours['true_outcomes']}/{ours['repetitions']}, naive "
        f"{naive['true_outcomes']}/{naive['repetitions']} (the naive backend misses non-ASCII "
        "case where the database folds ASCII only, and everything under a binary collation)."
    )


def plans_section(database, figures):
    blocks = [
        "<details><summary>Query plans on " + NAMES[database] + "</summary>",
        "",
    ]
    sources = []
    if "login" in figures:
        sources.append(("Login", figures["login"]["plans"]))
    if "signup" in figures:
        sources.append(("Sign-up, username", figures["signup"]["username"]["plans"]))
        if "username_and_lookalike" in figures["signup"]:
            sources.append(
                (
                    "Sign-up, username + look-alike",
                    figures["signup"]["username_and_lookalike"]["plans"],
                )
            )
        sources.append(
            ("Sign-up, username + email", figures["signup"]["username_and_email"]["plans"])
        )
    for label, plans in sources:
        for name, statements in plans.items():
            blocks.append(f"{label}, {name}:")
            blocks.append("```")
            for statement in statements:
                blocks.append(statement["sql"])
                blocks.extend("  " + line for line in statement["plan"])
            blocks.append("```")
    blocks += ["", "</details>"]
    return "\n".join(blocks)


def markdown_report(run):
    machine = run["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    hasher = run["real_hasher"]
    lines = [
        f"Command: `{run['command']}` (started {run['started']}).",
        "",
        f"Machine: {machine['nproc']} cores ({machine['cpu']}), {machine['memory_gb']} GB memory, "
        f"load average at start {', '.join(f'{value:.2f}' for value in machine['load_average_at_start'])}"
        + (
            f", at end {', '.join(f'{value:.2f}' for value in run['load_average_at_end'])}"
            if "load_average_at_end" in run
            else ""
        )
        + f"; Python {machine['python']}, {packages}.",
        "",
        f"Lookups use the MD5 hasher so hashing does not hide them; the real hasher "
        f"({hasher['hasher']}, {hasher['iterations']:,} iterations) costs "
        f"{hasher['median_ms']:.0f} ms per password check on this machine.",
        "",
    ]
    for database, results in run["databases"].items():
        lines += [database_section(database, results, hasher), ""]
    return "\n".join(lines)
