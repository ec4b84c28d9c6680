"""The OpenAPI schema is complete: it validates and drf-spectacular has nothing to warn."""

import pytest
import yaml
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    for path in [
        "/api/v1/procedures/",
        "/api/v1/calendar/due/",
        "/api/v1/dossiers/",
        "/api/v1/dossiers/lookup/",
        "/api/v1/reports/monthly/",
        "/api/v1/dialogues/sessions/",
        "/api/v1/dialogues/answers/",
    ]:
        assert path in paths, path
