"""The traveler: the printed work order that goes with a job through the shop.

Each operation carries a QR code of its scan code, "<job number>/<operation number>"; a
keyboard-wedge scanner types it into the terminal, which finds the operation with
`parse_scan_code`. The job's own QR code is the job number alone.
"""

import re
from decimal import Decimal

import segno
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from weasyprint import HTML, URLFetcher

from jobs.choices import FirstArticleRequirement, StepKind
from jobs.models import Job, JobOperation, MaterialLot

# Upper case, digits and "-./" keep the payload in the QR code's compact alphanumeric mode.
# A job number has no "/" and no space; the operation number is a positive small integer.
SCAN_CODE = re.compile(r"(?P<job>[A-Z0-9][A-Z0-9._-]{0,29})(?:/(?P<operation>\d{1,5}))?")
OPERATION_NUMBER_MAX = 32767

TRAVELER_RELATED = ("part_revision__part", "order_line__order__customer", "routing")
TRAVELER_PREFETCH = (
    Prefetch(
        "operations",
        queryset=JobOperation.objects.select_related("work_center", "fixture", "nc_program")
        .order_by("operation_number"),
    ),
    Prefetch("material_lots", queryset=MaterialLot.objects.order_by("material", "heat_number")),
    "serial_numbers",
)


def operation_scan_code(operation: JobOperation) -> str:
    """What an operation's QR code holds, e.g. "WO26-00012/20"."""
    return f"{operation.job.number}/{operation.operation_number}"


def parse_scan_code(text: str) -> tuple[str, int | None]:
    """The job number (upper case) and operation number of a scanned or typed code; the operation
    number is None when only a job number was given. Scanners with Caps Lock on type lower case,
    so case is ignored: look the job up with `number__iexact`. Raises ValueError for text that
    cannot be a code."""
    match = SCAN_CODE.fullmatch(text.strip().upper())
    if match is None:
        raise ValueError(f"{text.strip()[:40]!r} is not a job number or a traveler code.")
    if match["operation"] is None:
        return match["job"], None
    operation_number = int(match["operation"])
    if operation_number > OPERATION_NUMBER_MAX:
        raise ValueError(f"{operation_number} is not an operation number.")
    return match["job"], operation_number


def traveler_jobs() -> QuerySet[Job]:
    """Jobs with everything their traveler shows, in a fixed number of queries."""
    return Job.objects.select_related(*TRAVELER_RELATED).prefetch_related(*TRAVELER_PREFETCH)


def qr_svg(payload: str, *, label: str) -> SafeString:
    """A QR code (never a Micro QR: few scanners read those) as inline SVG, sized by CSS."""
    code = segno.make_qr(payload, error="m")
    # segno's own markup; the label is escaped by segno.
    return mark_safe(code.svg_inline(omitsize=True, svgclass="qr", title=label))


def minutes(value: Decimal) -> str:
    """60.00 as "60", 12.50 as "12.5": the figures an operator reads at a glance."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def traveler_context(job: Job) -> dict:
    operations = [
        {
            "operation": operation,
            "scan_code": operation_scan_code(operation),
            "qr": qr_svg(operation_scan_code(operation), label=operation_scan_code(operation)),
            "setup_minutes": minutes(operation.setup_minutes),
            "cycle_minutes": minutes(operation.cycle_minutes),
            "outside": operation.kind == StepKind.OUTSIDE,
            "needs_first_article": operation.first_article != FirstArticleRequirement.NONE,
        }
        for operation in job.operations.all()
    ]
    order = job.order_line.order if job.order_line else None
    return {
        "job": job,
        "job_qr": qr_svg(job.number, label=job.number),
        "order": order,
        "revision": job.part_revision,
        "part": job.part_revision.part,
        "material_lots": list(job.material_lots.all()),
        "serial_numbers": list(job.serial_numbers.all()) if job.part_revision.serialized else [],
        "operations": operations,
        "first_articles": [row for row in operations if row["needs_first_article"]],
        "printed_at": timezone.localtime(),
    }


def traveler_html(job: Job) -> str:
    return render_to_string("jobs/traveler.html", traveler_context(job))


def traveler_pdf(job: Job) -> bytes:
    """The traveler of a job as a PDF (US Letter, portrait). Related rows the job was not fetched
    with (see `traveler_jobs`) are loaded here, a query per relation, never per operation."""
    prefetch_related_objects([job], *TRAVELER_RELATED, *TRAVELER_PREFETCH)  # skips what is loaded already
    # The document references nothing outside itself; refuse any other fetch.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=traveler_html(job), url_fetcher=fetcher).write_pdf()
