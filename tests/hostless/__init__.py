"""A second, minimal host: the API mounted without drf-spectacular (``test_api_without_docs``)."""
