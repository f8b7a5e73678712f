# SPDX-License-Identifier: MIT
"""Shared fixtures: one real stack (MariaDB, mpbind-fcgi, nginx, the
simulator) per test session, in a temporary directory on free loopback
ports, torn down even when tests fail. Logs of a failed run are copied to
var/test/logs."""

import os
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from stack import temporary_stack  # noqa: E402
from api import Api, new_user  # noqa: E402,F401

from stackopts import TEST_OPTIONS  # noqa: E402


def _keep_logs(var):
    dest = os.path.join(ROOT, "var", "test", "logs")
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(os.path.join(var, "log"), dest, dirs_exist_ok=True)
    for extra in ("nginx/logs", "sim"):
        src = os.path.join(var, extra)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, extra.replace("/", "-")), dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.key", "*.pem", "*.sock"))


@pytest.fixture(scope="session")
def stack(request):
    def keep_logs_on_failure(var):
        if request.session.testsfailed:
            _keep_logs(var)

    with temporary_stack("mpbind-test-", TEST_OPTIONS, before_removal=keep_logs_on_failure) as s:
        yield s


@pytest.fixture
def api(stack):
    """An anonymous client of the stack."""
    return Api(stack.url)


@pytest.fixture
def user(stack):
    """A registered, signed-in user."""
    return new_user(stack.url)
