"""``sms-audit messages`` (list labelled messages) and ``sms-audit classify`` (label given messages)."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sms_audit.cli.common import (
    AppState,
    ArchivesArg,
    ArchiveTimezoneOption,
    CsvMapOption,
    InputFormatOption,
    OutputOption,
    RecordFormatOption,
    WideOption,
    check_input_format,
    check_output,
    counted,
    display_timezone,
    emit,
    examples,
    get_passphrase,
    get_state,
    info,
    local_time_note,
    open_store,
    progress,
    report_archive,
    warn,
)
from sms_audit.errors import ExitCode, UsageError
from sms_audit.output import (
    GROUP_ADDRESS,
    MINUTES,
    SHORT_LABEL,
    Col,
    RecordFormat,
    RecordView,
    plural,
    resolve_format,
)

if TYPE_CHECKING:
    from sms_audit.pipeline import ArchiveResult
    from sms_audit.query import MessageFilter
    from sms_audit.store import Store

#: Field order of ``messages`` output (documented in the README).
MESSAGES_COLUMNS = (
    "message_id",
    "timestamp",
    "direction",
    "address",
    "sender_kind",
    "brand",
    "label",
    "reason",
    "body",
    "service",
    "thread_key",
    "recipients",
    "is_group",
    "has_attachments",
    "is_filtered",
    "sent_timestamp",
    "address_raw",
    "source_format",
    "source_file",
    "source_record",
)
# what each field holds: the brand as written (the report groups by its key)
_MESSAGES_FIELDS = {c: "brand_display" if c == "brand" else c for c in MESSAGES_COLUMNS}
_MESSAGES_VIEW = RecordView(
    json_key="messages",
    exact_keys=True,  # the records hold MESSAGES_COLUMNS, in order
    table_specs=(
        Col("timestamp", "Time", 95, compact=MINUTES),
        Col("direction", "Dir", 60),
        Col("address", "Number", 90, compact=GROUP_ADDRESS),
        Col("brand", "Brand", 40, free_text=True, min_width=8, max_width=20),
        Col("label", "Label", 70, compact=SHORT_LABEL),
        Col("body", "Message", 100, free_text=True, min_width=24, max_width=80),
    ),
)
TimezoneOption = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="IANA zone a table shows times in (JSON/CSV are always UTC). [env: SMS_AUDIT_TIMEZONE; "
        "default: config.toml, else the main zone of the messages' region]",
        show_default=False,
        metavar="ZONE",
    ),
]
CLASSIFY_INPUT_FORMATS = ("jsonl", "csv", "tsv")
_CLASSIFY_TABLE = (
    Col("direction", "Dir", 60),
    Col("sender", "Sender", 85),
    Col("address", "Number", 80, compact=GROUP_ADDRESS),
    Col("label", "Label", 100, compact=SHORT_LABEL),
    Col("brand", "Brand", 40, free_text=True, min_width=8, max_width=20),
    Col("reason", "Why", 50, free_text=True, min_width=12, max_width=40),
    Col("body", "Message", 95, free_text=True, min_width=20, max_width=60),
)


def register(app: typer.Typer) -> None:
    app.command(
        "messages",
        epilog=examples(
            "sms-audit messages --label marketing --since 30d",
            "sms-audit messages --sender 10690123456701 --format csv -o one-sender.csv",
            "sms-audit messages backup.xml --search 退订 --limit 20 --newest-first",
        ),
    )(messages)
    app.command(
        "classify",
        epilog=examples(
            "sms-audit classify my-messages.csv --format jsonl",
            "jq -c '{id, direction, sender, body}' export.jsonl | sms-audit classify - --format csv",
        ),
    )(classify)


@contextmanager
def message_store(
    state: AppState,
    archives: list[Path],
    input_format: str | None,
    archive_timezone: str | None,
    csv_map: str | None = None,
) -> Iterator[Store]:
    """The store to read: the user's, or — for archives given directly — a private temporary one
    they are imported into first (each archive's outcome reported on stderr)."""
    from sms_audit.pipeline import ephemeral_store, import_archives

    if not archives:
        with open_store(state, create=False) as store:
            yield store
        return
    fmt = check_input_format(input_format)
    with ephemeral_store() as store:
        results = import_archives(
            store,
            archives,
            region=state.region_choice(),
            input_format=fmt,
            archive_timezone=archive_timezone,
            csv_map=csv_map,
            progress=lambda description: progress(state, description),
            get_passphrase=get_passphrase,
            on_archive=lambda result: report_archive(state, result, read_summary(result)),
        )
        if not any(r.ok or r.read for r in results):
            # nothing could be read: no empty report or listing, just the errors above (exit 3)
            raise typer.Exit(state.exit_code or ExitCode.DATA_ERROR)
        yield store


def read_summary(result: ArchiveResult) -> str:
    """``PATH: FORMAT`` (and the zone local times were read in) for an archive read directly."""
    return f"{result.path}: {result.description}{local_time_note(result)}"


def messages(
    ctx: typer.Context,
    archives: ArchivesArg = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only messages at or after this time (2024-05-01, 2024-05-01T08:00+08:00, or 30d for 30 days ago).",
            metavar="WHEN",
        ),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only messages before this time.", metavar="WHEN")] = None,
    sender: Annotated[
        str | None, typer.Option(help="Only this other party (number, short code, ID).", metavar="NUMBER")
    ] = None,
    direction: Annotated[
        str | None, typer.Option(help="in, out, draft, failed or other.", metavar="DIRECTION")
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(help="Only messages whose text contains this (case-insensitive).", metavar="TEXT"),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            help="Only this label: verification, marketing, unsubscribe-reply, unsubscribe-confirmation, other.",
            metavar="LABEL",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="At most N messages.", metavar="N")] = None,
    newest_first: Annotated[
        bool, typer.Option("--newest-first", help="Newest first (with --limit: the latest N).")
    ] = False,
    input_format: InputFormatOption = None,
    archive_timezone: ArchiveTimezoneOption = None,
    csv_map: CsvMapOption = None,
    timezone: TimezoneOption = None,
    fmt: RecordFormatOption = None,
    output: OutputOption = None,
    wide: WideOption = False,
) -> None:
    """List messages, labelled, from archives or the store."""
    from sms_audit.pipeline import store_region
    from sms_audit.query import MessageFilter

    state = get_state(ctx)
    chosen_format = state.output_format(fmt, RecordFormat)
    check_output(output, chosen_format)
    options = {
        "since": since,
        "until": until,
        "sender": sender,
        "direction": direction,
        "search": search,
        "label": label,
    }
    MessageFilter.from_options(**options)  # bad values are usage errors before any archive is read
    # only a table shows times in a zone: the others write UTC text, made straight from the store
    shown_as = resolve_format(chosen_format, to_stdout=output is None or output == "-", output=output)
    with message_store(state, archives or [], input_format, archive_timezone, csv_map) as store:
        zone = display_timezone(state, timezone, store_region(store, state.region_choice()).code)
        # a date without an offset is a day on the clock the table shows, not in UTC
        flt = MessageFilter.from_options(**options, zone=zone)
        _list(state, store, flt, zone, limit, newest_first, shown_as, chosen_format, output, wide)
    raise typer.Exit(state.exit_code)


def _list(
    state: AppState,
    store: Store,
    flt: MessageFilter,
    zone: str,
    limit: int | None,
    newest_first: bool,
    shown_as: RecordFormat,
    chosen_format: RecordFormat,
    output: str | None,
    wide: bool,
) -> None:
    """Write the store's messages that ``flt`` selects (the body of :func:`messages`)."""
    from sms_audit.pipeline import iter_store_records

    with (
        # closed before the store is: a reader stopped early (--limit, a closed pipe) holds a cursor
        closing(
            iter_store_records(
                store,
                flt,
                region=state.region_choice(),
                limit=limit,
                newest_first=newest_first,
                columns=_MESSAGES_FIELDS,
                time_text=shown_as is not RecordFormat.TABLE,
                progress=lambda description: progress(state, description),
            )
        ) as batches,
    ):
        # plain records, not frames: the first lines are out before pandas could even be imported
        first = next(batches, [])
        view = replace(
            _MESSAGES_VIEW,
            timezone=zone,
            title=f"Messages (times in {zone})",
            wide=wide,
        )
        count = emit(
            itertools.chain.from_iterable(
                counted(state, itertools.chain([first], batches), "writing messages")
            ),
            MESSAGES_COLUMNS,
            chosen_format,
            output,
            view,
        )
    info(state, plural(count, "message"))


def _warn_about_input(state: AppState, name: str, data: Any, untimed: int) -> None:
    """Say what the input holds that the labels cannot honour: fields the classifier's own columns
    replace, directions it does not know, messages without a sender (checked per message: the file's
    header or first lines having the fields says nothing about each message)."""
    from sms_audit.classifier import CLASSIFY_COLUMNS
    from sms_audit.schema import Direction

    codec = data.encoding.codec if data.encoding is not None else "utf-8"
    if codec != "utf-8":
        info(state, f"{name}: read as {data.encoding.describe()}")
    if data.replaced:
        warn(
            f"{name}: {plural(data.replaced, 'character')} could not be decoded as {codec} and became U+FFFD"
        )
    replaced = [c for c in data.columns if c in CLASSIFY_COLUMNS]
    if replaced:  # the user's own labels must not vanish without a word
        warn(
            f"{name}: input field{'s' if len(replaced) > 1 else ''} "
            f"{', '.join(replaced)} replaced by the classifier's (rename them to keep them)"
        )
    frame = data.frame
    direction = frame["direction"].str.strip().str.lower()
    odd = int((~direction.isin([d.value for d in Direction])).sum())
    if odd:
        warn(
            f"{name}: {plural(odd, 'message')} with a direction other than "
            f"{', '.join(d.value for d in Direction)} (never read as an unsubscribe)"
        )
    if data.without_body and "body" in data.columns:  # (no body field at all is refused earlier)
        warn(f"{name}: {plural(data.without_body, 'message')} without a body (classified as an empty text)")
    if untimed:
        warn(
            f"{name}: {plural(untimed, 'message')} without a readable timestamp (ISO 8601 or Unix "
            "s/ms): their senders' messages are taken in input order"
        )
    anonymous = int((frame["address"].str.strip() == "").sum())
    if anonymous:
        warn(f"{name}: {plural(anonymous, 'message')} without a sender or address (no opt-out can be told)")


def _classified(given: Iterator[dict[str, Any]], labelled: Any) -> Iterator[dict[str, Any]]:
    """Every input message as given (JSON types kept, absent fields absent), then its labels;
    the labels turned into dicts 10,000 rows at a time, so memory does not grow with the input."""
    from sms_audit.classifier import CLASSIFY_COLUMNS

    names = list(CLASSIFY_COLUMNS)
    labels = labelled[names]
    for start in range(0, len(labels), 10_000):
        chunk = labels.iloc[start : start + 10_000]
        # a list per column then zip: DataFrame.to_dict("records") boxes every value (3x slower)
        for values in zip(*(chunk[name].tolist() for name in names), strict=True):
            record = next(given)
            if not record.keys().isdisjoint(CLASSIFY_COLUMNS):
                record = {k: v for k, v in record.items() if k not in CLASSIFY_COLUMNS}
            record.update(zip(names, values, strict=True))
            yield record


def classify(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="JSONL, CSV or TSV file of messages, or - for stdin.", metavar="FILE|-")
    ],
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format",
            help="Skip content detection: read the input as jsonl, csv or tsv.",
            metavar="FORMAT",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="Text encoding of the input (utf-8, gbk, big5, utf-16 …); default: detected, as import does.",
            metavar="CODEC",
        ),
    ] = None,
    fmt: RecordFormatOption = None,
    output: OutputOption = None,
    wide: WideOption = False,
) -> None:
    """Label messages given as JSONL/CSV/TSV (fields: direction, sender or address, body)."""
    from sms_audit import config
    from sms_audit.classifier import CLASSIFY_COLUMNS, classify_frame, load_rules
    from sms_audit.classifier.engine import with_times
    from sms_audit.classifier.reader import read_classify_records
    from sms_audit.errors import SmsAuditError

    state = get_state(ctx)
    chosen_format = state.output_format(fmt, RecordFormat)
    check_output(output, chosen_format)  # before the input is read (stdin cannot be read twice)
    if input_format is not None and input_format not in CLASSIFY_INPUT_FORMATS:
        raise UsageError(
            f"unknown input format {input_format!r}", hint="one of: " + ", ".join(CLASSIFY_INPUT_FORMATS)
        )
    if encoding is not None:  # checked before any input is read
        from sms_audit.classifier.reader import given_encoding

        given_encoding(encoding)
    if source == "-":
        data = read_classify_records(getattr(sys.stdin, "buffer", sys.stdin), input_format, None, encoding)
    else:
        path = Path(source)
        try:
            with open(path, "rb") as handle:
                data = read_classify_records(handle, input_format, source, encoding)
        except FileNotFoundError:
            raise SmsAuditError("no such file or directory", path=source) from None
        except OSError as exc:
            raise SmsAuditError(f"cannot read: {exc.strerror or exc}", path=source) from None
    try:
        frame, untimed = with_times(data.frame)  # read once: for the order and for the warning
        labelled = classify_frame(frame, region=state.region, rules=load_rules(config.rules_dir()))
    except BaseException:
        data.close()
        raise
    columns = tuple(c for c in data.columns if c not in CLASSIFY_COLUMNS) + CLASSIFY_COLUMNS
    _warn_about_input(state, source if source != "-" else "<stdin>", data, untimed)
    view = RecordView(
        json_key="messages",
        table_specs=tuple(c for c in _CLASSIFY_TABLE if c.name in columns),
        exact_keys=True,
        wide=wide,
    )
    with closing(data):
        count = emit(_classified(data.records(), labelled), columns, chosen_format, output, view)
    info(state, f"{plural(count, 'message')} classified")
    raise typer.Exit(state.exit_code)
