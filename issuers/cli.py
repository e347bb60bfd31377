"""Commands for institutions and the operator: issuers, units, issue, revoke, rules, worker."""

from __future__ import annotations

import json
import os
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import IO

import click
from sqlalchemy import Engine, select

from credentials.keys import SigningKey
from credentials.proofs import CRYPTOSUITES
from infra.audit import cli_actor
from infra.cli import Progress, data_option, database, settings_of, stop_on_signals
from infra.secrets import write_private
from issuers import registry
from issuers.anchoring import AnchoringWorker
from issuers.catalogue import add_units
from issuers.issuance import Issuance, OutcomeFile
from issuers.publication import approve_rule_set
from issuers.records import batch_record
from issuers.revocation import request_revocation
from issuers.schemas import REASONS, reason_code
from issuers.signing import signing_pool
from issuers.tables import batches, credentials, revocations
from ledger.chain import Chain
from ledger.records import RevocationReason

PARALLEL_FROM = 2_000


# -- issuers (operator) --------------------------------------------------------------------------


@click.group("issuers")
def issuers_group() -> None:
    """Accredit institutions and manage their standing (operator)."""


@issuers_group.command("add")
@click.argument("name")
@click.option("--slug", help="Issuer id in URLs and its DID (default: from NAME).")
@click.option("--name-zh", help="The name in Chinese.")
@click.option("--url", help="The institution's web site.")
@click.option(
    "--scope",
    default="course,module,certificate,mooc,training",
    show_default=True,
    help="Credential kinds it may issue, comma-separated.",
)
@click.option(
    "--levels", default="1-8", show_default=True, help="Framework levels, e.g. 1-8 or 3,5-6."
)
@click.option("--valid-from", type=click.DateTime(["%Y-%m-%d"]), help="Accredited from (UTC date).")
@click.option(
    "--valid-until", type=click.DateTime(["%Y-%m-%d"]), help="Accredited until (UTC date)."
)
@click.option(
    "--signing-key",
    "signing_key_file",
    type=click.File("r"),
    help="Import the Ed25519 seed (64 hex characters) instead of generating one.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@data_option
def add_issuer(
    name: str,
    slug: str | None,
    name_zh: str | None,
    url: str | None,
    scope: str,
    levels: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
    signing_key_file: IO[str] | None,
    as_json: bool,
    data_dir: Path | None,
) -> None:
    """Accredit an issuer: signing key, chain account (allowlisted), scope, window, API token."""
    seed = None
    if signing_key_file is not None:
        try:
            seed = bytes.fromhex(signing_key_file.read().strip())
            SigningKey.from_seed(seed)
        except ValueError:
            raise click.BadParameter(
                "the seed must be 64 hex characters", param_hint="--signing-key"
            ) from None
    window = registry.Scope(
        kinds=registry.parse_kinds(scope),
        levels=registry.parse_levels(levels),
        valid_from=registry.unix_day(valid_from.date() if valid_from else None),
        valid_until=registry.unix_day(valid_until.date() if valid_until else None),
    )
    settings = settings_of(data_dir)
    with database(settings) as engine, Chain(settings) as chain:
        accreditation = registry.accredit(
            engine,
            chain,
            settings=settings,
            name=name,
            scope=window,
            slug=slug,
            name_zh=name_zh,
            url=url,
            signing_seed=seed,
            actor=cli_actor(),
        )
    if as_json:
        click.echo(json.dumps(accreditation.to_json(), indent=2))
        return
    click.echo(
        f"issuer:     {accreditation.issuer_id}\n"
        f"DID:        {accreditation.did}\n"
        f"account:    {accreditation.account}\n"
        f"public key: {accreditation.public_key}\n"
        f"API token:  {accreditation.token}   (shown once: keep it safe)"
    )


@issuers_group.command("suspend")
@click.argument("issuer_id")
@click.option(
    "--reason",
    "reason",
    default=1,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Reason code recorded on chain.",
)
@data_option
def suspend_issuer(issuer_id: str, reason: int, data_dir: Path | None) -> None:
    """Suspend an issuer: it cannot issue or anchor, and its credentials stop verifying."""
    settings = settings_of(data_dir)
    with database(settings) as engine, Chain(settings) as chain:
        registry.suspend(engine, chain, issuer_id, reason, actor=cli_actor())
    click.echo(f"suspended {issuer_id}")


@issuers_group.command("reinstate")
@click.argument("issuer_id")
@data_option
def reinstate_issuer(issuer_id: str, data_dir: Path | None) -> None:
    """Lift an issuer's suspension."""
    settings = settings_of(data_dir)
    with database(settings) as engine, Chain(settings) as chain:
        registry.reinstate(engine, chain, issuer_id, actor=cli_actor())
    click.echo(f"reinstated {issuer_id}")


@issuers_group.command("rotate-key")
@click.argument("issuer_id")
@data_option
def rotate_issuer_key(issuer_id: str, data_dir: Path | None) -> None:
    """Register a new signing key; the old one retires once what it signed is anchored."""
    settings = settings_of(data_dir)
    with database(settings) as engine, Chain(settings) as chain:
        public_key = registry.rotate_key(
            engine, chain.ledger, issuer_id, master_key=settings.master_key(), actor=cli_actor()
        )
    click.echo(f"new signing key of {issuer_id}: {public_key}")


# -- catalogue, issuance, revocation (institution) -----------------------------------------------


@click.group("units")
def units_group() -> None:
    """The catalogue of an issuer's units."""


@units_group.command("add")
@click.option("--issuer", "issuer_id", required=True, help="Issuer id.")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@data_option
def add_units_command(issuer_id: str, file: Path, data_dir: Path | None) -> None:
    """Add the units of a JSON file ({"units": [...]}) to the catalogue; prints their versions."""
    try:
        document = json.loads(file.read_text("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise click.ClickException(f"{file} is not JSON: {error}") from None
    documents = document.get("units") if isinstance(document, dict) else document
    if not isinstance(documents, list):
        raise click.ClickException(f'{file} must hold {{"units": [...]}}')
    with database(settings_of(data_dir)) as engine:
        issuer = registry.issuer_record(engine, issuer_id)
        with engine.begin() as connection:
            stored = add_units(connection, issuer, documents)
    for unit in stored:
        click.echo(f"{unit['code']} v{unit['version']}")


@click.command("issue")
@click.option("--issuer", "issuer_id", required=True, help="Issuer id.")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write each anchored credential to DIR/<uuid>.json.",
)
@click.option(
    "--cryptosuite", type=click.Choice(CRYPTOSUITES), default=CRYPTOSUITES[0], show_default=True
)
@click.option(
    "--processes",
    type=click.IntRange(1),
    default=None,
    help="Signing processes (default: one per core for large files).",
)
@data_option
def issue_command(
    issuer_id: str,
    file: Path,
    out_dir: Path | None,
    cryptosuite: str,
    processes: int | None,
    data_dir: Path | None,
) -> None:
    """Issue credentials from outcomes in FILE.json or FILE.csv: sign, batch, anchor, deliver."""
    started = time.perf_counter()
    settings = settings_of(data_dir)
    outcomes = OutcomeFile(file)
    estimate = outcomes.estimate()
    if processes is None:
        processes = (os.cpu_count() or 1) if estimate >= PARALLEL_FROM else 1
    if out_dir is not None:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    pooled = signing_pool(processes) if processes > 1 else nullcontext(None)
    with database(settings) as engine, Chain(settings) as chain, pooled as pool:
        issuer = registry.issuer_record(engine, issuer_id)
        issuance = Issuance.of(engine, settings=settings)
        with Progress(estimate, "signing") as progress, engine.begin() as connection:
            issued = issuance.issue(
                connection, issuer, outcomes, cryptosuite=cryptosuite, processes=processes,
                pool=pool, progress=progress.update,
            )
        count = len(issued.credentials)
        batch_ids = list(dict.fromkeys(batch for _, _, batch in issued.credentials))
        del issued
        signed_at = time.perf_counter()
        click.echo(f"anchoring {len(batch_ids)} batch(es) …", err=True)
        worker = AnchoringWorker(engine, chain.ledger, settings=settings, pool=pool,
                                 deliver_to=out_dir)
        worker.drain(set(batch_ids))
        anchored_at = time.perf_counter()
        if out_dir is not None:
            _write_credentials(engine, [each for each in batch_ids
                                        if each not in worker.delivered], out_dir)
        records = [
            batch_record(engine, issuer_id, batch_id, chain.deployment)
            for batch_id in batch_ids
        ]
    elapsed = time.perf_counter() - started
    blocks = sorted({record["block"] for record in records})
    click.echo(
        f"issued {count} credentials for {issuer_id} in {len(batch_ids)} batch(es), "
        f"anchored in block(s) {blocks[0]}–{blocks[-1]}\n"
        f"signed and stored in {signed_at - started:.1f} s, anchored in "
        f"{anchored_at - signed_at:.1f} s, {elapsed:.1f} s in all "
        f"({count / elapsed:,.0f} credentials/s)"
        + (f"\ncredentials written to {out_dir}" if out_dir is not None else "")
    )


@click.command("revoke")
@click.argument("credential_id", required=False)
@click.option("--batch", "batch_id", help="Revoke a whole batch instead of one credential.")
@click.option("--reason", type=click.Choice(REASONS), required=True, help="Why it is revoked.")
@click.option("--note", help="Free text kept with the revocation (not put on chain).")
@data_option
def revoke_command(
    credential_id: str | None,
    batch_id: str | None,
    reason: str,
    note: str | None,
    data_dir: Path | None,
) -> None:
    """Revoke a credential (CREDENTIAL_ID) or a whole batch (--batch) on chain, with a reason."""
    if (credential_id is None) == (batch_id is None):
        raise click.UsageError("give a CREDENTIAL_ID or --batch BATCH_ID (one of them)")
    settings = settings_of(data_dir)
    with database(settings) as engine, Chain(settings) as chain:
        with engine.begin() as connection:
            target_batch = (
                batch_id
                or connection.execute(
                    select(credentials.c.batch_id).where(credentials.c.id == credential_id)
                ).scalar_one_or_none()
            )
            issuer_id = connection.execute(
                select(batches.c.issuer_id).where(batches.c.id == target_batch)
            ).scalar_one_or_none()
            if issuer_id is None:
                raise click.ClickException(f"no such {'batch' if batch_id else 'credential'}")
            revocation = request_revocation(
                connection,
                issuer_id,
                reason=reason_code(reason),
                credential_id=credential_id,
                batch_id=batch_id,
                note=note,
                actor=cli_actor(),
            )
        worker = AnchoringWorker(engine, chain.ledger, settings=settings)
        worker.drain({revocation["batch"]})
        worker.revoke_pending()
        record = batch_record(engine, issuer_id, revocation["batch"], chain.deployment)
        with engine.connect() as connection:
            row = (
                connection.execute(select(revocations).where(revocations.c.id == revocation["id"]))
                .mappings()
                .one()
            )
    if row["status"] != "done":
        raise click.ClickException(f"revocation failed: {row['error']}")
    label = RevocationReason(row["reason"]).label
    click.echo(
        f"revoked {credential_id or batch_id} ({label}) in block {row['block']}, "
        f"transaction {row['transaction_hash']}, root {record['root']}"
    )


# -- rules (operator) and the worker -------------------------------------------------------------


@click.group("rules")
def rules_group() -> None:
    """Conversion-rule sets published by institutions."""


@rules_group.command("approve")
@click.argument("rule_set_id")
@click.argument("version", type=click.IntRange(1))
@data_option
def approve_rules(rule_set_id: str, version: int, data_dir: Path | None) -> None:
    """Approve a published rule-set version on chain (operator)."""
    settings = settings_of(data_dir)
    with database(settings) as engine, Chain(settings) as chain:
        approved = approve_rule_set(engine, chain, rule_set_id, version, actor=cli_actor())
    click.echo(json.dumps(approved, indent=2))


@click.command("worker")
@click.option("--once", is_flag=True, help="Do one pass and exit.")
@data_option
def worker_command(once: bool, data_dir: Path | None) -> None:
    """Run the anchoring worker until SIGINT/SIGTERM: close, anchor, deliver, revoke."""
    settings = settings_of(data_dir)
    with database(settings) as engine, Chain(settings) as chain:
        worker = AnchoringWorker(engine, chain.ledger, settings=settings)
        if once:
            click.echo(f"{worker.run_once()} step(s) done")
            return
        stop = stop_on_signals()
        click.echo("anchoring worker running", err=True)
        worker.run(stop)
    click.echo("anchoring worker stopped", err=True)


def _write_credentials(engine: Engine, batch_ids: list[str], out_dir: Path) -> None:
    """Write each credential of batches another worker finished to its own file, owner-only: it
    names a learner and their grade (the command's own worker writes those it finishes)."""
    with engine.connect() as connection:
        for batch_id in batch_ids:
            rows = connection.execute(
                select(credentials.c.id, credentials.c.anchored).where(
                    credentials.c.batch_id == batch_id, credentials.c.anchored.is_not(None)
                )
            )
            for row in rows:
                write_private(out_dir / (row.id.removeprefix("urn:uuid:") + ".json"),
                              row.anchored)
