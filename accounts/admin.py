"""Admin registrations of django-authfold."""
