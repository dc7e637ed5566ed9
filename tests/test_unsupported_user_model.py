"""A project whose user model logs in by email is told so at start-up (``authfold.E001``), with
no traceback from our forms or admin before the check can speak."""

import subprocess
import sys

from tests.django_process import ROOT, child_environment

EMAIL_USER_MODEL = """
INSTALLED_APPS = [*INSTALLED_APPS, "tests.swapped_users"]
AUTH_USER_MODEL = "swapped_users.EmailUser"
"""


def test_check_refuses_an_email_user_model_with_authfold_e001_and_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=child_environment(tmp_path, EMAIL_USER_MODEL),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "authfold.E001" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
