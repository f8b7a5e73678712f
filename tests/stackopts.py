# SPDX-License-Identifier: MIT
"""The options of the test stack (scripts/stack.py), shared by the fixtures
and the modules that bring up a stack of their own."""

# Settings for the test stack: fast password hashing, a generous sign-in
# rate (every test shares 127.0.0.1), and nginx's body cap above the
# application's so both caps can be reached.
TEST_OPTIONS = {
    "rewrite_config": True,
    "signin_rate": "200r/s",
    "signin_burst": 400,
    "landing_rate": "200r/s",
    "landing_burst": 400,
    "sns_rate": "200r/s",
    "sns_burst": 400,
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
        "metering.settle_seconds": "0",
        "metering.retry_seconds": "1",
        "metering.lease_seconds": "3",
    },
}
