"""What deploy/bin/build and the image rely on: the production static storage writes a manifest the
server serves from, and the places GreenLoop writes to come from configuration."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_STORAGE = "servestatic.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def production_static(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    return settings.STATIC_ROOT


def test_collectstatic_with_the_production_storage_writes_hashed_compressed_files_and_a_manifest(
    production_static,
):
    call_command("collectstatic", interactive=False, verbosity=0)

    manifest = json.loads((production_static / "staticfiles.json").read_text())["paths"]
    for source in (
        "stats/dashboard.js",
        "admin/css/base.css",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
    ):
        hashed = manifest[source]
        assert hashed != source and (production_static / hashed).is_file()
        assert (production_static / f"{hashed}.gz").is_file()


@pytest.mark.django_db
def test_pages_link_the_hashed_names_from_the_manifest(production_static, settings):
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((production_static / "staticfiles.json").read_text())["paths"]

    page = Client().get("/dashboard/login/").content.decode()

    assert f"/static/{manifest['stats/dashboard.css']}" in page


def _settings_in_a_fresh_process(**env) -> dict:
    script = (
        "import json, django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'backend.settings'); "
        "from django.conf import settings; "
        "print(json.dumps({'media': str(settings.MEDIA_ROOT), 'static': str(settings.STATIC_ROOT)}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"MEDIA_ROOT", "STATIC_ROOT"}}
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env={**clean, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_uploads_and_static_files_go_where_the_environment_says(tmp_path):
    chosen = _settings_in_a_fresh_process(
        MEDIA_ROOT=str(tmp_path / "media"), STATIC_ROOT=str(tmp_path / "static")
    )

    assert chosen == {"media": str(tmp_path / "media"), "static": str(tmp_path / "static")}


@pytest.mark.django_db
def test_photos_are_written_through_the_storage_to_the_configured_media_root(settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from sorting.photos import open_photo, prepared_photo, save_photo

    settings.MEDIA_ROOT = tmp_path / "uploads"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buffer, format="PNG")

    name = save_photo(
        prepared_photo(SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png"))
    )

    assert (tmp_path / "uploads" / name).is_file()
    with open_photo(name) as stored:
        assert Image.open(stored).size == (40, 30)
