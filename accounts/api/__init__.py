"""The REST API (Django REST framework): tokens, registration and the current user."""
