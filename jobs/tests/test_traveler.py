import shutil
import subprocess

import pytest
from django.utils import timezone

from core.services import record_create
from jobs.choices import StepKind
from jobs.models import Customer, Job, MaterialLot, NCProgram, SalesOrder, SalesOrderLine, SerialNumber
from jobs.services.release import job_release
from jobs.traveler import operation_scan_code, parse_scan_code, traveler_pdf
from machines.choices import FixtureKind
from machines.models import Fixture
from tests.factories import (
    JobFactory,
    MachineFactory,
    PartRevisionFactory,
    RoutingFactory,
    RoutingStepFactory,
    WorkCenterFactory,
)

# A missing tool fails the test, never skips it: scripts/test.sh installs these packages.
DEBIAN_PACKAGE = {"pdftotext": "poppler-utils", "pdftoppm": "poppler-utils", "zbarimg": "zbar-tools"}


def run_tool(*command: str, stdin: bytes | None = None) -> bytes:
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is missing: apt-get install {DEBIAN_PACKAGE[command[0]]}")
    return subprocess.run(command, input=stdin, capture_output=True, check=True, timeout=60).stdout


def pdf_text(pdf: bytes) -> str:
    """The text of each page, pages split by form feeds, words by single spaces (table cells wrap)."""
    text = run_tool("pdftotext", "-", "-", stdin=pdf).decode()
    return "\f".join(" ".join(page.split()) for page in text.split("\f"))


def pdf_qr_codes(pdf: bytes, folder) -> list[str]:
    """Every QR code a scanner reads on the pages, printed at 300 dpi in grey."""
    (folder / "traveler.pdf").write_bytes(pdf)
    run_tool("pdftoppm", "-r", "300", "-gray", "-png", str(folder / "traveler.pdf"), str(folder / "page"))
    pages = sorted(str(page) for page in folder.glob("page*.png"))
    return run_tool("zbarimg", "--nodbus", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", *pages).decode().split()


@pytest.fixture
def released_job(small_shop, planner) -> Job:
    return job_release(job_id=small_shop.job.pk, user=planner)


@pytest.fixture
def long_job(planner) -> Job:
    """A released job of twelve machining operations, each with its fixture and NC program, then
    an outside process: more than one printed page."""
    routing = RoutingFactory(part_revision=PartRevisionFactory(serialized=True))
    for n in range(1, 13):
        work_center = WorkCenterFactory()
        MachineFactory(work_center=work_center)
        fixture = record_create(model=Fixture, user=planner,
                                data={"code": f"FX-{n}", "name": f"Fixture {n}", "kind": FixtureKind.VISE})
        program = record_create(model=NCProgram, user=planner, data={
            "part_revision": routing.part_revision, "operation_number": 10 * n, "work_center": work_center,
            "program_number": f"O{1000 + n}", "version": 2,
        })
        RoutingStepFactory(routing=routing, operation_number=10 * n, name=f"Machine feature {n}",
                           work_center=work_center, fixture=fixture, nc_program=program,
                           needs_first_article=n == 1, instructions=f"Deburr all edges of feature {n}.")
    RoutingStepFactory(routing=routing, operation_number=130, name="Anodize", kind=StepKind.OUTSIDE,
                       work_center=None, vendor="Acme Anodizing", lead_days=5)
    job = JobFactory(part_revision=routing.part_revision)
    return job_release(job_id=job.pk, user=planner)


# The scan code


def test_a_scan_code_parses_back_to_its_operation(released_job):
    operations = list(released_job.operations.order_by("operation_number"))
    assert [operation_scan_code(op) for op in operations] == [f"{released_job.number}/10",
                                                              f"{released_job.number}/20"]
    for operation in operations:
        assert parse_scan_code(operation_scan_code(operation)) == (released_job.number,
                                                                  operation.operation_number)


@pytest.mark.parametrize(("text", "parsed"), [
    ("WO26-00012/20", ("WO26-00012", 20)),
    ("WO26-00012", ("WO26-00012", None)),
    ("  wo26-00012/20\r\n", ("WO26-00012", 20)),  # Caps Lock on at the scanner, Enter at the end
    ("\two26-00012 ", ("WO26-00012", None)),
    ("WO26-00012/0010", ("WO26-00012", 10)),
])
def test_a_scanned_or_typed_code_is_read_whatever_its_case_and_surrounding_space(text, parsed):
    assert parse_scan_code(text) == parsed


@pytest.mark.parametrize("text", [
    "", "   ", "/20", "WO26-00012/", "WO26-00012/twenty", "WO26-00012/20/30", "WO26 00012/20",
    "WO26-00012/-20", "WO26-00012/99999", "https://example.com/x", "W" * 31, "WO26-00012/20;DROP",
])
def test_text_that_cannot_be_a_code_is_refused(text):
    with pytest.raises(ValueError):
        parse_scan_code(text)


# The document


def test_the_traveler_shows_the_job_its_order_material_and_operations(released_job, planner):
    customer = record_create(model=Customer, user=planner, data={"code": "ACME", "name": "Acme Aerospace"})
    order = record_create(model=SalesOrder, user=planner, data={
        "number": "SO-1001", "customer": customer, "po_number": "PO-778899", "order_date": timezone.localdate(),
    })
    released_job.order_line = record_create(model=SalesOrderLine, user=planner, data={
        "order": order, "line_number": 1, "part_revision": released_job.part_revision, "quantity": 10,
        "due_date": released_job.due_date,
    })
    released_job.save(update_fields=["order_line"])
    record_create(model=MaterialLot, user=planner, data={
        "job": released_job, "material": "6061-T6", "heat_number": "H-4471", "certificate_number": "CERT-0912",
    })
    revision = released_job.part_revision

    text = pdf_text(traveler_pdf(Job.objects.get(pk=released_job.pk)))

    for expected in [released_job.number, revision.part.number, revision.drawing_number, "Acme Aerospace",
                     "PO-778899", "6061-T6", "H-4471", "CERT-0912", "Turn", "Mill flats", "Page 1 of 1"]:
        assert expected in text
    assert "Stock / R&D" not in text
    assert "not yet assigned" not in text


def test_a_stock_job_without_material_says_so(released_job):
    text = pdf_text(traveler_pdf(released_job))
    assert "Stock / R&D" in text
    assert "not yet assigned" in text


def test_a_long_traveler_has_the_job_and_page_count_on_every_page(long_job, planner):
    for n in (3, 1, 2):
        record_create(model=SerialNumber, user=planner, data={"job": long_job, "serial": f"SN-{n:04d}"})

    pages = pdf_text(traveler_pdf(long_job)).split("\f")[:-1]

    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert long_job.number in page
        assert f"Page {number} of {len(pages)}" in page
    text = "".join(pages)
    assert "SN-0001, SN-0002, SN-0003" in text
    for expected in ["Machine feature 12", "O1012 v2", "FX-12", "Acme Anodizing", "Deburr all edges of feature 12"]:
        assert expected in text


def test_every_qr_code_scans_as_its_operations_code(long_job, tmp_path):
    codes = pdf_qr_codes(traveler_pdf(long_job), tmp_path)

    expected = [long_job.number] + [operation_scan_code(op) for op in long_job.operations.order_by("operation_number")]
    assert sorted(codes) == sorted(expected)
    assert len(expected) == 14


def test_the_traveler_fetches_a_bounded_number_of_rows(long_job, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        traveler_pdf(Job.objects.get(pk=long_job.pk))


def test_standards_are_printed_in_minutes(released_job):
    text = pdf_text(traveler_pdf(released_job))
    assert "60 min" in text  # setup
    assert "12.5 min" in text  # cycle
