# SPDX-License-Identifier: MIT
"""Shared fixtures: one real stack (MariaDB, mpbind-fcgi, nginx, the
simulator) per test session, in a temporary directory on free loopback
ports, torn down even when tests fail. Logs of a failed run are copied to
var/test/logs."""

import os
import shutil
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from stack import Stack  # noqa: E402
from api import Api, new_user  # noqa: E402,F401

# Settings for the test stack: fast password hashing, a generous sign-in
# rate (every test shares 127.0.0.1), and nginx's body cap above the
# application's so both caps can be reached.
TEST_OPTIONS = {
    "rewrite_config": True,
    "signin_rate": "200r/s",
    "signin_burst": 400,
    "landing_rate": "200r/s",
    "landing_burst": 400,
    "max_body": "128k",
    "aliyun_activation_delay": 1,
    "http_timeout": 3,
    "sqs_wait": 2,
    "meterd_interval": 1,
    "config": {
        "auth.pwhash_ops": "1",
        "auth.pwhash_mem_kib": "8192",
        "max_body": "65536",
        "log_level": "debug",
    },
}


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
    var = tempfile.mkdtemp(prefix="mpbind-test-")
    s = Stack(var, options=TEST_OPTIONS)
    try:
        s.up()
        yield s
    finally:
        s.down()
        if request.session.testsfailed:
            _keep_logs(var)
        shutil.rmtree(var, ignore_errors=True)


@pytest.fixture
def api(stack):
    """An anonymous client of the stack."""
    return Api(stack.url)


@pytest.fixture
def user(stack):
    """A registered, signed-in user."""
    return new_user(stack.url)
