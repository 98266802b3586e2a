from django.core.management import call_command


def test_production_static_files_collect(settings, tmp_path):
    # The production storage hashes, compresses and rewrites references; a vendored file that
    # points at a missing one (a source map, a font) fails here before it fails a deploy.
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/htmx/htmx.min.*.js"))
