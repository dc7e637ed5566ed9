"""Reading the API's error answers in tests: by stable code, never by wording."""


def error_codes(response):
    """The codes of a 400's errors, by field: ``{"username": ["username_taken"]}``."""
    return {field: [error.code for error in errors] for field, errors in response.data.items()}
