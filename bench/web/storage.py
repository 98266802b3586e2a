"""The manifest (hashed names) of production's static files storage, without compression or the source-map rewrite
(see bench/web/settings.py)."""

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


def _without_source_maps(patterns):
    return tuple(
        (extension, tuple(pattern for pattern in rules
                          if "sourceMappingURL" not in (pattern[0] if isinstance(pattern, tuple) else pattern)))
        for extension, rules in patterns
    )


class StaticFilesStorage(ManifestStaticFilesStorage):
    patterns = _without_source_maps(ManifestStaticFilesStorage.patterns)
