"""The chat-media storage is configured by environment variables alone: the default folder,
another Django storage backend, and that backend's options as JSON (README, "Photos")."""

from __future__ import annotations

import json

from tests.config.test_env import run_settings

PRINT_STORAGE = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.STORAGES['relay_media']))"
)


def storage_with(extra: dict[str, str]) -> dict[str, object]:
    result = run_settings({"DEBUG": "1", **extra}, code=PRINT_STORAGE)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_by_default_sealed_photos_go_to_a_folder_named_by_relay_media_root(
    tmp_path: object,
) -> None:
    storage = storage_with({"RELAY_MEDIA_ROOT": "/srv/perantara/media"})
    assert storage == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": "/srv/perantara/media"},
    }


def test_an_s3_compatible_backend_gets_its_options_from_json() -> None:
    options = {"bucket_name": "perantara-media", "endpoint_url": "https://s3.example.com"}
    storage = storage_with(
        {
            "RELAY_MEDIA_STORAGE_BACKEND": "storages.backends.s3.S3Storage",
            "RELAY_MEDIA_STORAGE_OPTIONS": json.dumps(options),
        }
    )
    assert storage == {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def test_options_that_are_not_a_json_object_stop_start_up_naming_the_variable() -> None:
    for raw in ("bucket_name=perantara-media", '["perantara-media"]'):
        result = run_settings(
            {"DEBUG": "1", "RELAY_MEDIA_STORAGE_OPTIONS": raw}, code=PRINT_STORAGE
        )
        assert result.returncode != 0
        assert "RELAY_MEDIA_STORAGE_OPTIONS must be a JSON object" in result.stderr
