"""django-authfold: case-insensitive usernames and unique emails for Django's default User.

The import package: ``authfold.accounts`` (the app to install), ``authfold.backends`` (the login
backend) and ``authfold.data_migrations`` (the engine the migrations and commands run).
"""

__version__ = "0.2.0.dev0"
