from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from jobs.traveler import traveler_jobs, traveler_pdf


@require_safe
def job_traveler(request, job_id: int):
    """The job's traveler as a PDF, shown in the browser to print; any logged-in role may print it."""
    job = get_object_or_404(traveler_jobs(), pk=job_id)
    response = HttpResponse(traveler_pdf(job), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, f"traveler-{job.number}.pdf")
    return response
